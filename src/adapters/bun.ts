/** Bun adapter: `Bun.serve` with its built-in WebSocket server. */
import type { Server as BunServer, ServerWebSocket, WebSocketHandler } from "bun";
import type { Context, Hono } from "hono";
import { releaseHeldFrames, TurnGate } from "./coalesce.ts";
import type {
  Peer,
  Runtime,
  ServeOptions,
  Server,
  SocketEvents,
  TopicPublisher,
  Upgrader,
} from "./runtime.ts";
import { reportedCloseCode, serverUrl, toBytes } from "./runtime.ts";

/** What each Bun socket carries: the events of the connection it belongs to (no wrapper object). */
type SocketData = SocketEvents;

const upgrade: Upgrader = (c, options, events) => {
  const server = c.env as BunServer<SocketData>;
  const headers = new Headers(options.headers);
  // Left alone, Bun echoes the client's first subprotocol; the consumer's choice must win, and an
  // empty value makes Bun echo none when the consumer accepted none.
  headers.set("Sec-WebSocket-Protocol", options.subprotocol ?? "");
  if (!server.upgrade(c.req.raw, { data: events, headers })) {
    return new Response("WebSocket upgrade failed", { status: 400 });
  }
  return new Response(null); // ignored by Bun once the request is upgraded
};

/** The calls the peer makes on a Bun socket (a test can hand in its own). */
export interface BunSocket {
  send(data: string | Uint8Array): unknown;
  cork(callback: () => void): unknown;
  close(code: number, reason: string): void;
  terminate(): void;
  getBufferedAmount(): number;
  subscribe(topic: string): void;
  unsubscribe(topic: string): void;
}

/**
 * The peer of a Bun socket: frames past the first of a turn are held and written in one
 * `ws.cork()`; with `publisher` (its server's), it has native topics for relayed group messages.
 */
export function bunPeer(ws: BunSocket, publisher?: TopicPublisher): Peer {
  return new BunPeer(ws, publisher);
}

/**
 * A server's publish. Frames held by the coalescing go out first: a frame sent before a relayed
 * message must reach its client before it, and Bun writes a publish ahead of frames still held.
 */
function publisherOf(server: BunServer<SocketData>): TopicPublisher {
  return {
    publish(topic, text) {
      releaseHeldFrames();
      server.publish(topic, text);
    },
  };
}

/**
 * A class, not an object of closures: an idle connection keeps one object for its peer, which is
 * its own turn gate too. What it holds is a list made when it first holds.
 */
class BunPeer extends TurnGate implements Peer {
  readonly #ws: BunSocket;
  readonly publisher: TopicPublisher | undefined;
  #held: Array<string | Uint8Array> | null = null;
  #heldBytes = 0;

  constructor(ws: BunSocket, publisher?: TopicPublisher) {
    super();
    this.#ws = ws;
    this.publisher = publisher;
  }

  subscribe(topic: string): void {
    this.#ws.subscribe(topic);
  }

  unsubscribe(topic: string): void {
    this.#ws.unsubscribe(topic);
  }

  send(data: string | Uint8Array): void {
    this.beforeWrite();
    if (!this.holding) return void this.#ws.send(data);
    this.#held ??= [];
    this.#held.push(data);
    this.#heldBytes += typeof data === "string" ? data.length : data.byteLength;
  }

  close(code: number, reason: string): void {
    this.releaseHeld(); // what was sent before the close goes out before it
    this.#ws.close(code, reason);
  }

  terminate(): void {
    this.#held = null; // nobody will read them
    this.#heldBytes = 0;
    this.#ws.terminate();
  }

  // Held frames are part of the backlog the slow-client policy judges.
  get bufferedAmount(): number {
    return this.#ws.getBufferedAmount() + this.#heldBytes;
  }

  protected holdFrames(): void {}

  protected writeHeld(): void {
    const frames = this.#held;
    const ws = this.#ws;
    this.#held = null;
    this.#heldBytes = 0;
    if (!frames) return;
    // A socket the client closed meanwhile drops these sends, as it would have dropped them one by one.
    ws.cork(() => {
      for (const data of frames) ws.send(data);
    });
  }

  protected heldBytes(): number {
    return this.#heldBytes;
  }
}

/** The socket events, with the server's publisher handed to each peer (set once the server exists). */
function socketHandlers(publisher: { current?: TopicPublisher }): WebSocketHandler<SocketData> {
  return {
    open(ws: ServerWebSocket<SocketData>) {
      ws.data.open(bunPeer(ws, publisher.current));
    },
    message(ws, message) {
      ws.data.receive(typeof message === "string" ? message : toBytes(message));
    },
    close(ws, code) {
      ws.data.closed(reportedCloseCode(code));
    },
  };
}

async function serve(app: Hono, options: ServeOptions): Promise<Server> {
  const { upgrades } = options;
  const publisher: { current?: TopicPublisher } = {};
  const server = Bun.serve<SocketData>({
    port: options.port,
    hostname: options.hostname,
    fetch: upgrades
      ? (request, bunServer) =>
          isUpgrade(request) ? upgrades(request, bunServer) : app.fetch(request, bunServer)
      : (request, bunServer) => app.fetch(request, bunServer),
    // Bun silently drops sends past its own backpressure limit (16 MiB by default); keep it above
    // ours so the runner's slow-client policy is what acts. Relayed messages Bun publishes itself
    // pass no policy of ours: a client that lets them pile up past Bun's limit is closed, not
    // silently skipped.
    websocket: {
      ...socketHandlers(publisher),
      maxPayloadLength: options.maxFrameBytes,
      backpressureLimit: Math.max(16 * 1024 * 1024, 2 * (options.maxBufferedBytes ?? 0)),
      closeOnBackpressureLimit: true,
    },
  });
  publisher.current = publisherOf(server);
  return {
    url: serverUrl(options.hostname, server.port ?? options.port),
    close: () => server.stop(true),
  };
}

/** Whether a request asks to become a WebSocket (the app's own test, before any routing). */
function isUpgrade(request: Request): boolean {
  return request.headers.get("upgrade")?.toLowerCase() === "websocket";
}

/** Bun's adapter. */
export const runtime: Runtime = {
  name: "bun",
  upgrade,
  client(c: Context) {
    const address = (c.env as BunServer<SocketData>).requestIP(c.req.raw);
    return address ? { address: address.address, port: address.port } : null;
  },
  serve,
};
