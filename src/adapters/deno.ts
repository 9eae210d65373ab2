/** Deno adapter: `Deno.serve` and `Deno.upgradeWebSocket`. */
import type { Context, Hono } from "hono";
import type { Peer, Runtime, ServeOptions, Server, SocketEvents, Upgrader } from "./runtime.ts";
import { reportedCloseCode, serverUrl, toBytes } from "./runtime.ts";

// Deno's own type library is not on npm; these are the only Deno APIs this file calls.
interface DenoAddr {
  hostname: string;
  port: number;
}
interface DenoServeInfo {
  remoteAddr: DenoAddr;
}
interface DenoHttpServer {
  addr: DenoAddr;
  /** Rejects when the accept loop dies (EMFILE, ENFILE...): the listener is closed by then. */
  finished: Promise<void>;
  shutdown(): Promise<void>;
}
declare const Deno: {
  serve(
    options: { port: number; hostname: string; onListen?: (addr: DenoAddr) => void },
    handler: (request: Request, info: DenoServeInfo) => Response | Promise<Response>,
  ): DenoHttpServer;
  upgradeWebSocket(
    request: Request,
    options?: { protocol?: string },
  ): { socket: WebSocket; response: Response };
};

/** The events of the connection a socket belongs to, kept on the socket itself. */
const EVENTS = Symbol("events");
type EventfulSocket = WebSocket & { [EVENTS]: SocketEvents };

const upgrade: Upgrader = (c, options, events) => {
  const { socket, response } = Deno.upgradeWebSocket(
    c.req.raw,
    options.subprotocol ? { protocol: options.subprotocol } : {},
  );
  for (const [name, value] of Object.entries(options.headers)) response.headers.set(name, value);
  socket.binaryType = "arraybuffer";
  // Shared listeners that find the connection on the socket: no closures per connection.
  (socket as EventfulSocket)[EVENTS] = events;
  socket.addEventListener("open", onOpen);
  socket.addEventListener("message", onMessage);
  socket.addEventListener("close", onClose);
  return response;
};

function onOpen(this: WebSocket): void {
  this.removeEventListener("open", onOpen);
  (this as EventfulSocket)[EVENTS].open(new DenoPeer(this));
}

function onMessage(this: WebSocket, event: MessageEvent): void {
  (this as EventfulSocket)[EVENTS].receive(
    typeof event.data === "string" ? event.data : toBytes(event.data as ArrayBuffer),
  );
}

// A dropped TCP connection closes with code 0 here (1006 on Bun and Node): report it as 1006.
function onClose(this: WebSocket, event: CloseEvent): void {
  (this as EventfulSocket)[EVENTS].closed(reportedCloseCode(event.code));
}

/**
 * What writing one sent frame costs Deno after the turn: `socket.send` queues the write in a task of
 * its own (0.5-1 µs of JavaScript), and the task runs once the turn's JavaScript is done. In a burst
 * into a 100-member room, 5 ms of queued work left 40-50 ms of such writing (about 7,000 frames,
 * 6-7 µs each), which the turn budget did not see: a `/health` request or a message in another room
 * waited 100-170 ms, while our own part of its trip took under 3 ms.
 */
const DEFERRED_WRITE_MS = 0.006;

/** The peer of a Deno socket: its calls, as methods (an object of closures per connection before). */
class DenoPeer implements Peer {
  readonly #socket: WebSocket;

  constructor(socket: WebSocket) {
    this.#socket = socket;
  }

  send(data: string | Uint8Array): void {
    this.#socket.send(data);
  }

  close(code: number, reason: string): void {
    this.#socket.close(code, reason);
  }

  get bufferedAmount(): number {
    return this.#socket.bufferedAmount;
  }

  get deferredWriteMs(): number {
    return DEFERRED_WRITE_MS;
  }
}

/**
 * Deno.serve's accept loop ends at its first accept error (EMFILE when descriptors run out): it
 * closes its listener and rejects `finished`, and that rejection, unhandled, ends the process.
 * Connections it already accepted keep running. So: log, and listen again on the same port, backing
 * off while descriptors stay short; on close, shut down every generation.
 */
async function serve(app: Hono, options: ServeOptions): Promise<Server> {
  const { upgrades } = options;
  const handler = upgrades
    ? (request: Request, info: DenoServeInfo) =>
        request.headers.get("upgrade")?.toLowerCase() === "websocket"
          ? upgrades(request, info)
          : app.fetch(request, info)
    : (request: Request, info: DenoServeInfo) => app.fetch(request, info);
  const servers = new Set<DenoHttpServer>();
  let closed = false;
  let delay = 0; // shared by generations: a sustained flood backs off instead of spinning
  let failures = 0;
  let recovery: ReturnType<typeof setTimeout> | undefined;

  const listen = (port: number): DenoHttpServer => {
    const server = Deno.serve({ port, hostname: options.hostname, onListen: () => {} }, handler);
    servers.add(server);
    server.finished.then(
      () => {},
      (error: unknown) => {
        // With PORT=0, listening on 0 again would move the server: reuse the port it bound.
        if (!closed) void relisten(server.addr.port, error);
      },
    );
    return server;
  };

  const relisten = async (port: number, error: unknown) => {
    clearTimeout(recovery);
    if (failures++ === 0) options.logger?.error(`accept failed, listening again: ${String(error)}`);
    for (;;) {
      delay = Math.min(Math.max(delay * 2, 100), 2000);
      await new Promise((resolve) => setTimeout(resolve, delay));
      if (closed) return;
      try {
        listen(port);
        break;
      } catch {
        // No descriptor to listen with yet: try again later.
      }
    }
    // Recovered once a listener has lasted a second: say so once, and start the backoff over.
    recovery = setTimeout(() => {
      options.logger?.warn(`accepting connections again (${failures} listener(s) lost to accept errors)`);
      failures = 0;
      delay = 0;
    }, 1000);
  };

  const { hostname, port } = listen(options.port).addr;
  return {
    url: serverUrl(hostname, port),
    close: async () => {
      closed = true;
      clearTimeout(recovery);
      await Promise.all([...servers].map((server) => server.shutdown().catch(() => {})));
    },
  };
}

/** Deno's adapter. */
export const runtime: Runtime = {
  name: "deno",
  upgrade,
  client(c: Context) {
    const address = (c.env as DenoServeInfo | undefined)?.remoteAddr;
    return address ? { address: address.hostname, port: address.port } : null;
  },
  serve,
};
