/**
 * The channels_redis wire backplane's blocking reads, on sorted sets popped lowest score (oldest)
 * first, as channels_redis pops them: draining this process's inboxes, and a worker's `receive()`
 * on a plain channel.
 */
import { LayerClosedError } from "../../errors.ts";
import type { RedisConnections } from "./redis-connections.ts";
import { blockingRead, type QueueConnections, type RedisClient, sleep } from "./redis-queues.ts";

/** One popped member of a sorted set: the stored message and its score (send time, seconds). */
export interface Popped {
  stored: Buffer;
  score: number;
}

// Members taken per round trip once one has arrived.
const INBOX_BATCH = 100;
// How long a blocking read waits before looking again at whether it was cancelled, and at which
// inboxes to read (seconds).
const BLOCK_SECONDS = 1;

/**
 * Hands every message queued on any of `inboxes()` to `takeIn`, oldest first, until the
 * connections close. `inboxes()` is read again before each wait, so a new one joins within
 * `BLOCK_SECONDS`.
 */
export async function drainInboxes(
  redis: RedisConnections,
  inboxes: () => string[],
  takeIn: (popped: Popped) => void,
): Promise<void> {
  const reader = redis.inboxReader;
  while (!redis.closed) {
    try {
      const first = await reader.bzpopminBuffer(...inboxes(), BLOCK_SECONDS);
      if (!first) continue;
      const [key, stored, score] = first;
      takeIn({ stored, score: Number(score) });
      const rest = await reader.zpopminBuffer(key, INBOX_BATCH - 1);
      for (let i = 0; i + 1 < rest.length; i += 2) takeIn({ stored: rest[i]!, score: Number(rest[i + 1]) });
    } catch {
      if (!redis.closed) await sleep(500); // Redis is away; the client reconnects
    }
  }
}

/** How a plain channel's sorted set is read. */
export interface SortedSetRead<T> {
  /** The message in a popped member, or null to skip it (expired). */
  accept(popped: Popped): T | null;
  /** The TTL a member put back after an abort gives its set again (seconds). */
  expirySeconds: number;
}

/** The next message queued on the sorted set at `key` that `accept` takes; `signal` cancels the wait. */
export function receiveFromSortedSet<T>(
  redis: QueueConnections,
  key: string,
  how: SortedSetRead<T>,
  signal?: AbortSignal,
): Promise<T> {
  return blockingRead(redis, (connection) => readSortedSet(redis, connection, key, how, signal), signal);
}

/** BZPOPMINs `key` until `accept` takes a member, the signal aborts or the connections close. */
async function readSortedSet<T>(
  redis: QueueConnections,
  connection: RedisClient,
  key: string,
  how: SortedSetRead<T>,
  signal: AbortSignal | undefined,
): Promise<T> {
  for (;;) {
    const popped = await connection.bzpopminBuffer(key, BLOCK_SECONDS);
    if (signal?.aborted || redis.closed) {
      // Nobody waits for it any more: put it back with its score, so it keeps its place, and the
      // TTL the pop may have deleted with the set's last member.
      if (popped) {
        await redis.command
          .multi()
          .zadd(key, popped[2].toString(), popped[1])
          .expire(key, how.expirySeconds)
          .exec()
          .catch(() => {});
      }
      throw signal?.reason ?? new LayerClosedError();
    }
    if (!popped) continue;
    const taken = how.accept({ stored: popped[1], score: Number(popped[2]) });
    if (taken !== null) return taken;
  }
}
