/**
 * Node adapter: `@hono/node-server` for HTTP; upgrades handled here, straight from the server's
 * `upgrade` event to `ws`, with a light request for the app and no per-connection closures.
 */
import type { IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { type HttpBindings, serve as nodeServe } from "@hono/node-server";
import type { Context, Hono } from "hono";
import { type WebSocket, WebSocketServer } from "ws";
import { TurnGate } from "./coalesce.ts";
import {
  appendHeaderLines,
  refuse,
  UpgradeRequest,
  upgradeHeaders,
  upgradeUrl,
} from "./node-upgrade-request.ts";
import type {
  Peer,
  Runtime,
  ServeOptions,
  Server,
  SocketEvents,
  UpgradeOptions,
  Upgrader,
} from "./runtime.ts";
import { reportedCloseCode, serverUrl } from "./runtime.ts";

/** How long a client may take to send a request's headers before Node answers 408 and closes. */
const HEADER_TIMEOUT_MS = 10_000;

/** Marks the env of a request that came through this adapter's `upgrade` listener. */
const UPGRADING = Symbol("upgrading");
/** Where the upgrader leaves its decision for the `upgrade` listener. */
const ACCEPTED = Symbol("accepted");
/** The events of the connection a ws socket belongs to, kept on the socket itself. */
const EVENTS = Symbol("events");

type UpgradeEnv = HttpBindings & { [UPGRADING]?: true; [ACCEPTED]?: Accepted };
type Accepted = UpgradeOptions & { events: SocketEvents };
type EventfulSocket = WebSocket & { [EVENTS]: SocketEvents };

const upgrade: Upgrader = (c, options, events) => {
  const env = c.env as UpgradeEnv;
  // Only this adapter's `upgrade` listener can complete the handshake.
  if (!env[UPGRADING]) return new Response(null, { status: 500 });
  env[ACCEPTED] = { subprotocol: options.subprotocol, headers: options.headers, events };
  // Headers on this response (the consumer's, and any a middleware adds) go on the 101.
  return new Response(null, { headers: options.headers });
};

/** The calls the peer makes on a ws socket (a test can hand in its own). */
export type NodeSocket = Pick<WebSocket, "send" | "close" | "terminate" | "bufferedAmount">;

/**
 * The peer of a ws socket: frames past the first of a turn wait in the corked TCP socket and go out
 * in one writev when it is uncorked (coalesce.ts). ws has no cork of its own; its `_socket` (the
 * net.Socket it writes to) is not in its types but has been there since ws 1.
 */
export function nodePeer(ws: NodeSocket): Peer {
  return new NodePeer(ws);
}

/**
 * A class, not an object of closures: an idle connection keeps one object for its peer (the
 * closures, under tsx's keepNames, each kept a property array too), which is its own turn gate too.
 */
class NodePeer extends TurnGate implements Peer {
  readonly #ws: NodeSocket;
  readonly #tcp: { cork(): void; uncork(): void } | undefined;
  #heldBytes = 0;

  constructor(ws: NodeSocket) {
    super();
    this.#ws = ws;
    this.#tcp = (ws as { _socket?: { cork(): void; uncork(): void } })._socket;
  }

  send(data: string | Uint8Array): void {
    this.beforeWrite();
    if (this.holding) this.#heldBytes += typeof data === "string" ? data.length : data.byteLength;
    this.#ws.send(data);
  }

  close(code: number, reason: string): void {
    this.releaseHeld(); // the close frame follows what was sent before it, and is not held
    this.#ws.close(code, reason);
  }

  terminate(): void {
    this.#ws.terminate();
  }

  // Corked frames are in the TCP socket's buffer, which ws counts here.
  get bufferedAmount(): number {
    return this.#ws.bufferedAmount;
  }

  protected holdFrames(): void {
    this.#tcp?.cork();
  }

  protected writeHeld(): void {
    this.#heldBytes = 0;
    this.#tcp?.uncork();
  }

  protected heldBytes(): number {
    return this.#heldBytes;
  }
}

function ignore(): void {}

// Shared listeners: each finds its connection's events on the socket (`this`).
function onMessage(this: WebSocket, data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void {
  (this as EventfulSocket)[EVENTS].receive(isBinary ? bytesOf(data) : String(data));
}

function onClose(this: WebSocket, code: number): void {
  (this as EventfulSocket)[EVENTS].closed(reportedCloseCode(code));
}

/** A binary frame's bytes, copied out of ws's buffers (as @hono/node-server handed them over). */
function bytesOf(data: Buffer | ArrayBuffer | Buffer[]): Uint8Array {
  if (Array.isArray(data)) return new Uint8Array(Buffer.concat(data));
  return data instanceof ArrayBuffer ? new Uint8Array(data.slice(0)) : new Uint8Array(data);
}

async function serve(app: Hono, options: ServeOptions): Promise<Server> {
  // The upgrade being completed: ws asks for its subprotocol and headers while handleUpgrade runs.
  let completing: { accepted: Accepted; headers: Headers } | null = null;
  const sockets = new WebSocketServer({
    noServer: true,
    ...(options.maxFrameBytes ? { maxPayload: options.maxFrameBytes } : {}),
    handleProtocols: () => completing?.accepted.subprotocol ?? false,
  });
  sockets.on("headers", (lines: string[]) => appendHeaderLines(lines, completing?.headers));

  const server = nodeServe({
    fetch: app.fetch,
    port: options.port,
    hostname: options.hostname,
    // A request must finish its headers within 10 s, as Bun's fixed timer has it (Deno has none:
    // SECURITY.md). Node's default is 60 s, checked every 30 s: a half-sent request held a
    // descriptor for up to 90 s. Bodies keep Node's requestTimeout (300 s); keep-alive its 5 s.
    serverOptions: { headersTimeout: HEADER_TIMEOUT_MS, connectionsCheckingInterval: 1000 },
  });

  const fetchUpgrade = options.upgrades ?? app.fetch;
  const upgradeListener = async (incoming: IncomingMessage, socket: Duplex, head: Buffer) => {
    // A client that resets mid-handshake must not take the process down with an unhandled error.
    socket.on("error", ignore);
    if (incoming.headers.upgrade?.toLowerCase() !== "websocket") return refuse(socket, 400);
    const url = upgradeUrl(incoming);
    const headers = url === null ? null : upgradeHeaders(incoming.rawHeaders, incoming.headers.cookie);
    if (url === null || headers === null) return refuse(socket, 400);
    const env: UpgradeEnv = { incoming, outgoing: undefined as never, [UPGRADING]: true };
    const request = new UpgradeRequest(url, incoming.method ?? "GET", headers) as unknown as Request;
    let response: Response;
    try {
      response = await fetchUpgrade(request, env);
    } catch {
      return refuse(socket, 500);
    }
    const accepted = env[ACCEPTED];
    if (!accepted) return refuse(socket, response.status, response.headers);
    // Accepted: exactly one of open() and close() reaches the connection, now.
    const { events } = accepted;
    if (socket.destroyed) return events.closed(1006);
    let opened = false;
    completing = { accepted, headers: response.headers };
    try {
      sockets.handleUpgrade(incoming, socket, head, (ws) => {
        opened = true;
        socket.off("error", ignore);
        (ws as EventfulSocket)[EVENTS] = events;
        ws.on("message", onMessage);
        ws.on("close", onClose);
        ws.on("error", ignore); // ws closes the socket itself (1002, 1009...) and reports the close
        events.open(nodePeer(ws));
      });
    } finally {
      completing = null;
    }
    // ws refused the handshake (and answered it), or the client was already half gone.
    if (!opened) events.closed(1006);
  };
  server.on("upgrade", (incoming: IncomingMessage, socket: Duplex, head: Buffer) => {
    // Nothing above should throw; if it does, this connection ends, not the process.
    upgradeListener(incoming, socket, head).catch(() => socket.destroy());
  });

  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  });
  const { address, port } = server.address() as AddressInfo;
  return {
    url: serverUrl(address, port),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets.clients) socket.terminate();
        sockets.close();
        server.close(() => resolve());
        if ("closeAllConnections" in server) server.closeAllConnections();
      }),
  };
}

/** Node's adapter. */
export const runtime: Runtime = {
  name: "node",
  upgrade,
  client(c: Context) {
    const socket = (c.env as HttpBindings | undefined)?.incoming?.socket;
    return socket?.remoteAddress ? { address: socket.remoteAddress, port: socket.remotePort ?? 0 } : null;
  },
  serve,
};
