/**
 * The adapter contract: what each runtime adapter (bun.ts, deno.ts, node.ts) provides and is given.
 * Adapters only translate between a runtime's server and socket APIs and these shapes; every
 * behaviour lives in the runtime-neutral modules that use them. Nothing here knows about consumers,
 * so adapters import nothing from `consumer/`.
 */
import type { Context, Hono } from "hono";
import type { Logger } from "../log.ts";

/** An open socket, as an adapter hands it over: all the consumer runner needs to write to it. */
export interface Peer {
  /** Sends a text (string) or binary (bytes) frame. */
  send(data: string | Uint8Array): void;
  /** Starts the closing handshake. */
  close(code: number, reason: string): void;
  /** Bytes queued for the client but not yet written to the network. */
  readonly bufferedAmount: number;
  /** Drops the connection without a closing handshake (a client that stopped reading never completes one). */
  terminate?(): void;
  /** Native topics (Bun): what its server publishes to `topic` reaches this socket from now on. */
  subscribe?(topic: string): void;
  unsubscribe?(topic: string): void;
  /** The server's publish to the sockets subscribed to a topic; present with `subscribe`. */
  readonly publisher?: TopicPublisher;
  /**
   * Milliseconds the runtime spends writing one frame after the turn's JavaScript, when `send`
   * only queues the write (Deno). The turn budget counts it (consumer/turns.ts); absent when
   * `send` writes before it returns, inside the time the budget already measures.
   */
  readonly deferredWriteMs?: number;
}

/** A server's native publish: one call writes `text` to every socket subscribed to `topic`. */
export interface TopicPublisher {
  publish(topic: string, text: string): void;
}

/** The remote end of the connection. */
export interface Client {
  address: string;
  port: number;
}

/**
 * Socket events an adapter reports for one upgraded connection (to its consumer runner, which
 * implements them itself: no object per connection in between).
 */
export interface SocketEvents {
  /** The socket is open; `peer` writes to it. */
  open(peer: Peer): void;
  /** A frame arrived from the client. */
  receive(data: string | Uint8Array): void;
  /** The socket is gone, however it ended: the close code as the runtime reported it. */
  closed(code: number): void;
}

/** How the handshake response should look. */
export interface UpgradeOptions {
  subprotocol: string | null;
  headers: Record<string, string>;
}

/** Turns an upgrade request into a WebSocket; returns the response the runtime expects. */
export type Upgrader = (
  c: Context,
  options: UpgradeOptions,
  events: SocketEvents,
) => Response | Promise<Response>;

/** Options of `serve()`. */
export interface ServeOptions {
  port: number;
  hostname: string;
  /** Frames larger than this are refused by the runtime itself (1009) where it can. */
  maxFrameBytes?: number;
  /** The runner's per-socket backlog limit; runtimes with their own limit keep it above this. */
  maxBufferedBytes?: number;
  /** Where the adapter reports what the runtime does not surface itself (accept failures). */
  logger?: Logger;
  /**
   * Answers WebSocket upgrade requests, when given: the app's sockets tree called directly, which
   * the app's own fetch reaches for them only after routing them through its HTTP tree.
   */
  upgrades?: FetchHandler | null;
}

/** A Hono app's fetch, as the adapters call it. */
export type FetchHandler = (request: Request, env: unknown) => Response | Promise<Response>;

/** A listening server. */
export interface Server {
  /** `http://host:port`, with the port actually bound (useful with port 0). */
  readonly url: URL;
  /** Stops accepting connections and ends any still open. */
  close(): Promise<void>;
}

/** One runtime's adapter. */
export interface Runtime {
  readonly name: "bun" | "deno" | "node";
  readonly upgrade: Upgrader;
  /** The remote address of the request, where the runtime tells it. */
  client(c: Context): Client | null;
  serve(app: Hono, options: ServeOptions): Promise<Server>;
}

/** Bytes of a binary frame as a Uint8Array, whatever container the runtime handed over. */
export function toBytes(data: ArrayBuffer | ArrayBufferView): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(data);
}

/**
 * The close code to report for a socket's close event: a code no close frame can carry (Deno says
 * 0 when the TCP connection drops) becomes 1006, what Bun and Node report for the same drop.
 */
export function reportedCloseCode(code: number): number {
  return Number.isInteger(code) && code >= 1000 && code <= 4999 ? code : 1006;
}

/** `http://host:port`, with an IPv6 address in brackets. */
export function serverUrl(hostname: string, port: number): URL {
  return new URL(`http://${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}`);
}
