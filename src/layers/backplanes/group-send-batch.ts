/**
 * Group messages sent in the same turn of the event loop, carried to Redis as one script call.
 * ioredis already pipelines a turn's commands into one write, but builds, tracks and answers each
 * command on its own: with a room of members each sending at once, about 350 commands per
 * pipeline, that bookkeeping was 40% of the server's CPU. One call carries them all; Redis runs the
 * script's loop in the order the sends were made, so the one order every process sees is unchanged.
 *
 * The sends of a batch settle together, once Redis ran the call: each with its own outcome (the
 * script notes a message it could not carry on the message's entry), or all with the call's error
 * if Redis never ran it. A batch is bounded in messages and bytes (past either bound it goes at
 * once and a new one starts), so Redis never reads a huge command; its script's time also grows
 * with the members stored in Redis (plain channels, other processes' channels) of each group.
 */
import { setImmediate } from "node:timers";

/** Messages per script call: enough for a whole turn of a busy process (about 300 in the rooms benchmark). */
export const BATCH_MESSAGES = 512;
/**
 * Payload characters per script call, so a batch of large messages stays small (a UTF-8 byte
 * count can be up to 3x that, for JSON of non-ASCII text).
 */
export const BATCH_BYTES = 1 << 20;

/** One message to carry: its group and its wire payload. */
export interface GroupSendEntry {
  group: string;
  payload: string;
  /** Why this message was not carried, when Redis ran the call but failed on it alone. */
  error: Error | null;
}

/** Carries a batch to Redis: settles once Redis ran it (noting each entry's error), or rejects with why it did not. */
export type SendBatch = (entries: GroupSendEntry[]) => Promise<void>;

/** The messages collected so far, and the promise every one of their sends is handed. */
class Batch {
  readonly entries: GroupSendEntry[] = [];
  bytes = 0;
  readonly done: Promise<void>;
  resolve!: () => void;
  reject!: (error: unknown) => void;

  constructor() {
    this.done = new Promise<void>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }
}

/** Collects the group sends of a turn and hands them to `send` as one batch. */
export class GroupSendBatcher {
  readonly #send: SendBatch;
  #batch: Batch | null = null;
  /** Batches handed to `send` and not settled yet. */
  readonly #inFlight = new Set<Promise<void>>();
  readonly #flush = () => this.flush();

  constructor(send: SendBatch) {
    this.#send = send;
  }

  /** Adds a message to this turn's batch; settles with the batch. */
  add(entry: GroupSendEntry): Promise<void> {
    let batch = this.#batch;
    if (batch === null) {
      batch = this.#batch = new Batch();
      // After the I/O callbacks of this turn of the event loop, so one call takes every room's
      // messages of the turn (about 40 a call when sent at the end of each tick instead); ioredis
      // writes it with its pipeline, one turn later.
      setImmediate(this.#flush);
    }
    batch.entries.push(entry);
    batch.bytes += entry.payload.length;
    if (batch.entries.length >= BATCH_MESSAGES || batch.bytes >= BATCH_BYTES) this.flush();
    return batch.done;
  }

  /**
   * Hands what is collected to `send` now. A command that must follow the sends made before it
   * calls this first: `send` issues its call before returning, so ioredis writes them in order.
   */
  flush(): void {
    const batch = this.#batch;
    if (batch === null) return;
    this.#batch = null;
    const sent = this.#send(batch.entries);
    this.#inFlight.add(batch.done);
    sent.then(batch.resolve, batch.reject);
    batch.done.then(
      () => this.#inFlight.delete(batch.done),
      () => this.#inFlight.delete(batch.done),
    );
  }

  /**
   * Sends what is collected and waits until every batch handed on has settled, `ms` at most: what
   * was sent before a close is carried before the connection goes (ioredis writes a flushed batch
   * one turn later, with its pipeline).
   */
  async settle(ms: number): Promise<void> {
    this.flush();
    if (this.#inFlight.size === 0) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const bound = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
    });
    await Promise.race([Promise.allSettled([...this.#inFlight]), bound]);
    clearTimeout(timer);
  }
}
