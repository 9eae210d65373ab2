/**
 * The Redis backplanes' blocking reads: draining this process's inbox (messages other processes
 * sent to its channels) and a worker's `receive()` on a plain channel's list. Both backplanes use
 * them: one Redis (`RedisConnections`) and a cluster (`RedisClusterConnections`), whose clients
 * answer the same commands.
 */
import type { Cluster, Redis } from "ioredis";
import { LayerClosedError } from "../../errors.ts";
import type { Message } from "../layer.ts";
import { decodeEntry } from "./redis-entries.ts";

/** A client of one Redis or of a cluster: the commands used here are the same on both. */
export type RedisClient = Redis | Cluster;

/** What the reads need of a backplane's connections. */
export interface QueueConnections {
  readonly closed: boolean;
  /** Runs a call, turning connection failures into the layer's errors. */
  call<T>(run: () => Promise<T>): Promise<T>;
  readonly command: RedisClient;
  /** The connection that blocks on this process's inbox, and nothing else. */
  readonly inboxReader: RedisClient;
  /** A connection for one blocking read; given back with `release`. */
  blocking(): RedisClient;
  release(connection: RedisClient): void;
  /**
   * Settles when the connections close, for clients that do not end a read queued while they
   * were still connecting (ioredis's Cluster): the read then ends with the connections.
   */
  readonly closing?: Promise<void>;
}

// Inbox entries taken per round trip once one has arrived.
const INBOX_BATCH = 100;
// How long a blocking read waits before looking again at whether it was cancelled (seconds).
const BLOCK_SECONDS = 1;

/** Hands every entry pushed onto `inbox` to `takeIn`, in order, until the connections close. */
export async function drainInbox(
  redis: QueueConnections,
  inbox: string,
  takeIn: (entry: string) => void,
): Promise<void> {
  const reader = redis.inboxReader;
  // BLMPOP (Redis 7) takes a batch in one round trip; older servers get BLPOP, then LPOP the rest.
  let batched = true;
  while (!redis.closed) {
    let entries: string[];
    try {
      if (batched) {
        const popped = await reader.blmpop(BLOCK_SECONDS, 1, inbox, "LEFT", "COUNT", INBOX_BATCH);
        if (!popped) continue;
        entries = popped[1];
      } else {
        const popped = await reader.blpop(inbox, BLOCK_SECONDS);
        if (!popped) continue;
        const more = await reader.lpop(inbox, INBOX_BATCH);
        entries = [popped[1], ...(more ?? [])];
      }
    } catch (error) {
      if (batched && /unknown command/i.test(String(error))) {
        batched = false;
        continue;
      }
      if (!redis.closed) await sleep(500); // Redis is away; the client reconnects
      continue;
    }
    for (const entry of entries) takeIn(entry);
  }
}

/** How a list's entries age. */
interface ListTiming {
  expiryMs: number;
  now: () => number;
}

/** The next unexpired message of the list at `key`; `signal` cancels the wait. */
export function receiveFromList(
  redis: QueueConnections,
  key: string,
  timing: ListTiming,
  signal?: AbortSignal,
): Promise<Message> {
  return blockingRead(redis, (connection) => readList(redis, connection, key, timing, signal), signal);
}

/**
 * Runs `read` on a pooled blocking connection; `signal` cancels the wait (`read` must see the
 * abort itself and put back what it popped).
 */
export async function blockingRead<T>(
  redis: QueueConnections,
  read: (connection: RedisClient) => Promise<T>,
  signal?: AbortSignal,
): Promise<T> {
  signal?.throwIfAborted();
  // The read starts inside call(): if call() refuses (closed, Redis away), nothing is popped that
  // no caller would receive.
  const start = () => {
    const connection = redis.blocking();
    const reading = read(connection).finally(() => redis.release(connection));
    reading.catch(() => {}); // after an abort its rejection is expected and unobserved
    return reading;
  };
  if (!signal) return redis.call(start);
  let onAbort = () => {};
  const aborted = new Promise<never>((_resolve, reject) => {
    onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
  });
  try {
    return await redis.call(() => Promise.race([start(), aborted]));
  } finally {
    signal.removeEventListener("abort", onAbort); // a worker reusing one signal must not pile them up
  }
}

/** BLPOPs `key` until an unexpired entry arrives, the signal aborts or the connections close. */
async function readList(
  redis: QueueConnections,
  connection: RedisClient,
  key: string,
  timing: ListTiming,
  signal: AbortSignal | undefined,
): Promise<Message> {
  for (;;) {
    const read = connection.blpop(key, BLOCK_SECONDS);
    const popped = redis.closing ? await Promise.race([read, redis.closing.then(() => null)]) : await read;
    if (signal?.aborted || redis.closed) {
      // Nobody waits for it any more: put it back where it was. BLPOP deleted the list if that
      // was its last entry, so the TTL every queued list carries is set again with it.
      if (popped) {
        await redis.command
          .multi()
          .lpush(key, popped[1])
          .pexpire(key, timing.expiryMs)
          .exec()
          .catch(() => {});
      }
      throw signal?.reason ?? new LayerClosedError();
    }
    if (!popped) continue;
    const entry = decodeEntry(popped[1]);
    if (entry.expiresAt > timing.now()) return entry.message;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
