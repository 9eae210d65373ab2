/**
 * Node adapter: `@hono/node-server` for HTTP; upgrades handled here, straight from the server's
 * `upgrade` event to `ws`, with a light request for the app and no per-connection closures.
 */
import type { IncomingMessage } from "node:http";
import { STATUS_CODES } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { type HttpBindings, serve as nodeServe } from "@hono/node-server";
import type { Context, Hono } from "hono";
import { type WebSocket, WebSocketServer } from "ws";
import { type HoldHooks, TurnGate } from "./coalesce.ts";
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
 * closures, under tsx's keepNames, each kept a property array too). Its gate's hooks are its own
 * hold/release/heldBytes; what it does on each call is unchanged.
 */
class NodePeer implements Peer, HoldHooks {
  readonly #ws: NodeSocket;
  readonly #tcp: { cork(): void; uncork(): void } | undefined;
  readonly #gate: TurnGate;
  #heldBytes = 0;

  constructor(ws: NodeSocket) {
    this.#ws = ws;
    this.#tcp = (ws as { _socket?: { cork(): void; uncork(): void } })._socket;
    this.#gate = new TurnGate(this);
  }

  send(data: string | Uint8Array): void {
    const gate = this.#gate;
    gate.beforeWrite();
    if (gate.holding) this.#heldBytes += typeof data === "string" ? data.length : data.byteLength;
    this.#ws.send(data);
  }

  close(code: number, reason: string): void {
    this.#gate.release(); // the close frame follows what was sent before it, and is not held
    this.#ws.close(code, reason);
  }

  terminate(): void {
    this.#ws.terminate();
  }

  // Corked frames are in the TCP socket's buffer, which ws counts here.
  get bufferedAmount(): number {
    return this.#ws.bufferedAmount;
  }

  hold(): void {
    this.#tcp?.cork();
  }

  release(): void {
    this.#heldBytes = 0;
    this.#tcp?.uncork();
  }

  heldBytes(): number {
    return this.#heldBytes;
  }
}

/**
 * The headers of an upgrade request, from the raw list, as Bun and Deno build theirs and as a view
 * sees them: a repeated name keeps every value (Node's parsed headers keep the first of a repeated
 * Authorization or Host), an empty value is kept, cookies are joined with "; " as Node joins them.
 * Null when Headers refuses one (Node's parser lets through little that it would).
 */
export function upgradeHeaders(raw: string[], cookie: string | undefined): Headers | null {
  const headers = new Headers();
  try {
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const name = raw[i]!;
      if (name.length !== 6 || name.toLowerCase() !== "cookie") headers.append(name, raw[i + 1]!);
    }
    if (cookie !== undefined) headers.set("cookie", cookie);
  } catch {
    return null;
  }
  return headers;
}

// A request target and a Host that need no normalising (as @hono/node-server checks them).
const PLAIN_TARGET = /^\/[!#$&-;=?-[\]_a-z~]*$/;
const DOT_SEGMENT = /\/\.\.?(?:[/?#]|$)/;
const PLAIN_HOST = /^[a-z0-9._-]+(?::(?:[1-5]\d{3,4}|[6-9]\d{3}))?$/;

/** The URL of an upgrade request, or null when its target or Host is not one (answered 400). */
export function upgradeUrl(incoming: IncomingMessage): string | null {
  const target = incoming.url ?? "/";
  const scheme = (incoming.socket as { encrypted?: boolean }).encrypted ? "https" : "http";
  try {
    if (target.startsWith("http://") || target.startsWith("https://")) {
      if (hasBackslashInPath(target)) return null;
      return new URL(target).href;
    }
    if (target[0] !== "/") return null;
    const host = incoming.headers.host ?? "localhost";
    const url = `${scheme}://${host}${target}`;
    if (PLAIN_HOST.test(host) && PLAIN_TARGET.test(target) && !DOT_SEGMENT.test(target)) return url;
    if (hasBackslashInPath(target)) return null;
    const parsed = new URL(url);
    // A Host with a path, a user or anything else URL would quietly move into the URL is refused.
    const bare = (host.includes(":") ? host.replace(/:\d+$/, "") : host).toLowerCase();
    if (parsed.hostname.length !== host.length && parsed.hostname !== bare) return null;
    return parsed.href;
  } catch {
    return null;
  }
}

function hasBackslashInPath(target: string): boolean {
  const backslash = target.indexOf("\\");
  if (backslash === -1) return false;
  const query = target.indexOf("?");
  return query === -1 || backslash < query;
}

/**
 * The request an upgrade hands the app: its URL, method and headers are plain fields, and the
 * rest of Request (its AbortSignal, body, clone()...), which building costs most of a Node
 * handshake's JavaScript, is made only if something asks for it.
 */
class UpgradeRequest {
  readonly url: string;
  readonly method: string;
  readonly headers: Headers;
  #request: Request | null = null;

  constructor(url: string, method: string, headers: Headers) {
    this.url = url;
    this.method = method;
    this.headers = headers;
  }

  /** The full Request, made once. */
  get full(): Request {
    this.#request ??= new Request(this.url, { method: this.method, headers: this.headers });
    return this.#request;
  }
}
// Everything else of Request, forwarded to the full one; instanceof Request holds.
for (const name of Object.getOwnPropertyNames(Request.prototype)) {
  if (name === "constructor" || name === "url" || name === "method" || name === "headers") continue;
  const member = Object.getOwnPropertyDescriptor(Request.prototype, name)!;
  Object.defineProperty(
    UpgradeRequest.prototype,
    name,
    typeof member.value === "function"
      ? {
          value(this: UpgradeRequest, ...args: unknown[]) {
            return (this.full as unknown as Record<string, (...a: unknown[]) => unknown>)[name]!(...args);
          },
        }
      : {
          get(this: UpgradeRequest) {
            return (this.full as unknown as Record<string, unknown>)[name];
          },
        },
  );
}
Object.setPrototypeOf(UpgradeRequest.prototype, Request.prototype);

// Hop-by-hop and handshake headers a 101 or a refusal must not repeat from the app's response.
const SKIPPED_HEADERS = new Set([
  "connection",
  "content-length",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "sec-websocket-accept",
  "sec-websocket-extensions",
  "sec-websocket-protocol",
]);

function appendHeaderLines(lines: string[], headers: Headers | undefined): void {
  headers?.forEach((value, name) => {
    if (!SKIPPED_HEADERS.has(name)) lines.push(`${name}: ${value}`);
  });
}

/** Answers an upgrade the app refused with its status and headers (no body), and closes. */
function refuse(socket: Duplex, status: number, headers?: Headers): void {
  if (socket.destroyed) return;
  const lines = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ""}`,
    "Connection: close",
    "Content-Length: 0",
  ];
  appendHeaderLines(lines, headers);
  socket.end(`${lines.join("\r\n")}\r\n\r\n`);
}

function ignore(): void {}

// Shared listeners: each finds its connection's events on the socket (`this`).
function onMessage(this: WebSocket, data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void {
  (this as EventfulSocket)[EVENTS].message(isBinary ? bytesOf(data) : String(data));
}

function onClose(this: WebSocket, code: number, reason: Buffer): void {
  (this as EventfulSocket)[EVENTS].close(reportedCloseCode(code), reason.toString());
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
    if (socket.destroyed) return events.close(1006, "");
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
    if (!opened) events.close(1006, "");
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
