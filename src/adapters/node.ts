/** Node adapter: `@hono/node-server` for HTTP, its built-in upgrade support with `ws` for sockets. */
import type { IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { type HttpBindings, serve as nodeServe, upgradeWebSocket } from "@hono/node-server";
import type { Context, Hono } from "hono";
import { type WebSocket, WebSocketServer } from "ws";
import { TurnGate } from "./coalesce.ts";
import type { Peer, Runtime, ServeOptions, Server, Upgrader } from "./runtime.ts";
import { reportedCloseCode, serverUrl, toBytes } from "./runtime.ts";

/** How long a client may take to send a request's headers before Node answers 408 and closes. */
const HEADER_TIMEOUT_MS = 10_000;

// `ws` picks the subprotocol in a server-wide callback, after our handler has decided; the
// decision travels from one to the other on the request object.
const chosenSubprotocol = new WeakMap<IncomingMessage, string>();

const upgrade: Upgrader = async (c, options, events) => {
  const { incoming } = c.env as HttpBindings;
  if (options.subprotocol) chosenSubprotocol.set(incoming, options.subprotocol);
  const response = await upgradeWebSocket(c, {
    onOpen(_event, context) {
      events.open(nodePeer(context.raw as WebSocket));
    },
    onMessage(event) {
      events.message(typeof event.data === "string" ? event.data : toBytes(event.data as ArrayBuffer));
    },
    onClose(event) {
      events.close(reportedCloseCode(event.code), event.reason);
    },
  });
  // @hono/node-server copies these onto the 101 response.
  for (const [name, value] of Object.entries(options.headers)) response.headers.set(name, value);
  return response;
};

/** The calls the peer makes on a ws socket (a test can hand in its own). */
export type NodeSocket = Pick<WebSocket, "send" | "close" | "terminate" | "bufferedAmount">;

/**
 * The peer of a ws socket: frames past the first of a turn wait in the corked TCP socket and go out
 * in one writev when it is uncorked (coalesce.ts). ws has no cork of its own; its `_socket` (the
 * net.Socket it writes to) is not in its types but has been there since ws 1.
 */
export function nodePeer(ws: NodeSocket): Peer {
  const tcp = (ws as { _socket?: { cork(): void; uncork(): void } })._socket;
  let heldBytes = 0;
  const gate = new TurnGate({
    hold: () => tcp?.cork(),
    release() {
      heldBytes = 0;
      tcp?.uncork();
    },
    heldBytes: () => heldBytes,
  });
  return {
    send(data) {
      gate.beforeWrite();
      if (gate.holding) heldBytes += typeof data === "string" ? data.length : data.byteLength;
      ws.send(data);
    },
    close(code, reason) {
      gate.release(); // the close frame follows what was sent before it, and is not held
      ws.close(code, reason);
    },
    terminate: () => ws.terminate(),
    // Corked frames are in the TCP socket's buffer, which ws counts here.
    get bufferedAmount() {
      return ws.bufferedAmount;
    },
  };
}

/**
 * @hono/node-server builds an upgrade request from Node's parsed headers, which keep only the first
 * of a repeated Authorization or Host (a plain request gets them all, joined with ", "). The same
 * request must look the same as a view and as a socket, or a second credential goes unseen; so the
 * headers of an upgrade are rebuilt from the raw list, as Bun and Deno build theirs.
 */
function withAllHeaders(request: Request, incoming: IncomingMessage): Request {
  const raw = incoming.rawHeaders;
  // Building a second Request costs about 11 µs; most upgrades have nothing the parsed headers lost.
  if (!parsedHeadersLostSome(raw)) return request;
  const headers = new Headers();
  try {
    for (let i = 0; i + 1 < raw.length; i += 2) {
      // Cookies join with "; ", which Node's parsed value already did.
      if (raw[i]!.toLowerCase() !== "cookie") headers.append(raw[i]!, raw[i + 1]!);
    }
  } catch {
    return request; // a header Headers refuses: keep what @hono/node-server built
  }
  if (incoming.headers.cookie !== undefined) headers.set("cookie", incoming.headers.cookie);
  return new Request(request.url, { method: request.method, headers });
}

/**
 * Whether @hono/node-server's upgrade request, built from Node's parsed headers, differs from the
 * raw list: a repeated name (Node keeps the first of some) or an empty value (it skips those).
 */
export function parsedHeadersLostSome(raw: string[]): boolean {
  const names = new Set<string>();
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (raw[i + 1] === "" || names.has(name)) return true;
    names.add(name);
  }
  return false;
}

async function serve(app: Hono, options: ServeOptions): Promise<Server> {
  const sockets = new WebSocketServer({
    noServer: true,
    ...(options.maxFrameBytes ? { maxPayload: options.maxFrameBytes } : {}),
    handleProtocols: (_offered, request) => chosenSubprotocol.get(request) ?? false,
  });
  const server = nodeServe({
    // An upgrade comes with no `outgoing` (no response object to write to), and always over HTTP/1.1.
    fetch: (request, env) =>
      app.fetch(
        env.outgoing === undefined ? withAllHeaders(request, env.incoming as IncomingMessage) : request,
        env,
      ),
    port: options.port,
    hostname: options.hostname,
    websocket: { server: sockets },
    // A request must finish its headers within 10 s, as Bun's fixed timer has it (Deno has none:
    // SECURITY.md). Node's default is 60 s, checked every 30 s: a half-sent request held a
    // descriptor for up to 90 s. Bodies keep Node's requestTimeout (300 s); keep-alive its 5 s.
    serverOptions: { headersTimeout: HEADER_TIMEOUT_MS, connectionsCheckingInterval: 1000 },
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
