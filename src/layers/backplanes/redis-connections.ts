/**
 * The Redis backplane's connections: one for commands, one for pub/sub, one reading this
 * process's inbox, and a pool for workers' blocking reads. It owns the status (up when commands
 * and subscriptions both work), re-subscribes after a reconnect, and turns connection failures
 * into `LayerUnavailableError`.
 *
 * A call made before the first connection waits for it, up to `connectTimeoutMs`; once the layer
 * has been up, a call during an outage fails at once instead of queueing without bound. Every
 * command has a time bound: a Redis that stops answering (frozen, overloaded) without closing the
 * connection is seen by a once-a-second PING, reported `down`, and calls fail at once until it
 * answers again. A call that was written but never answered is `LayerOutcomeUnknownError`, not
 * `LayerUnavailableError`: it may have been carried out.
 */
import Redis from "ioredis";
import {
  ChannelsError,
  LayerClosedError,
  LayerOutcomeUnknownError,
  LayerUnavailableError,
} from "../../errors.ts";
import type { Logger } from "../../log.ts";
import { type LayerStatus, type StatusReporting, waitUntilUp } from "../layer.ts";
import { LuaScript } from "./redis-scripts.ts";

export const RECONNECT_MAX_MS = 500;
/** How long any command may wait for its answer. */
export const COMMAND_TIMEOUT_MS = 2000;
/** How often an idle connection is checked for answering at all. */
export const WATCHDOG_INTERVAL_MS = 1000;
// ioredis's words for a command it refused to write: nothing reached Redis.
const NOT_SENT = /^(Stream isn't writeable|Connection is closed)/;

/** Options of the connections. */
export interface RedisConnectionOptions {
  url: string;
  /** How long calls made before the first connection wait for it. */
  connectTimeoutMs: number;
  logger?: Logger;
  /** A pub/sub message arrived on `channel`. */
  onMessage(channel: string, payload: string): void;
}

/** The connections of one backplane, and whether they work. */
export class RedisConnections implements StatusReporting {
  readonly command: Redis;
  readonly subscriber: Redis;
  readonly inboxReader: Redis;
  readonly #url: string;
  readonly #connectTimeoutMs: number;
  readonly #idleBlocking: Redis[] = [];
  /** Every connection made for blocking reads, so close() can end reads still waiting. */
  readonly #blocking = new Set<Redis>();
  /** The pub/sub channels to hold: the one list re-subscribed after a reconnect. */
  readonly #subscribed = new Set<string>();
  readonly #listeners = new Set<(status: LayerStatus) => void>();
  #status: LayerStatus = "connecting";
  /** Whether the subscriber's current connection has subscribed every channel of `#subscribed`. */
  #resubscribed = false;
  /** Redis holds the connection open but stopped answering (frozen, overloaded). */
  #stalled = false;
  #watchdog: ReturnType<typeof setInterval>;
  #pinging = false;
  #closed = false;

  constructor(options: RedisConnectionOptions) {
    this.#url = options.url;
    this.#connectTimeoutMs = options.connectTimeoutMs;
    const connection = {
      // Fail calls at once while Redis is away instead of queueing them without bound.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: (attempt: number) => Math.min(attempt * 50, RECONNECT_MAX_MS),
    };
    // Auto-pipelining: the commands of one turn of the event loop go out in one write, not one
    // system call each (the group sends of a turn are one call already: group-send-batch.ts).
    this.command = new Redis(options.url, {
      ...connection,
      commandTimeout: COMMAND_TIMEOUT_MS,
      enableAutoPipelining: true,
    });
    // ioredis's own autoResubscribe would also bring back channels left while Redis was down
    // (their UNSUBSCRIBE could not be sent): `#subscribed` is the one list.
    this.subscriber = new Redis(options.url, {
      ...connection,
      autoResubscribe: false,
      commandTimeout: COMMAND_TIMEOUT_MS,
    });
    // Its blocking reads wait up to a second by design; the watchdog covers a frozen server.
    this.inboxReader = new Redis(options.url, connection);
    for (const client of [this.command, this.subscriber, this.inboxReader]) {
      client.on("error", (error: Error) => options.logger?.debug(`redis: ${error.message}`));
    }
    // Up when both commands and subscriptions work: a groupAdd needs the subscriber too, and a
    // groupSend right after "up" must reach this process's members, so the subscriber counts as up
    // only once its channels are subscribed again.
    // A connection that just became ready has had Redis answer: whatever stalled before is over.
    this.command.on("ready", () => {
      LuaScript.loadAll(this.command);
      this.#stalled = false;
      this.#updateStatus();
    });
    this.subscriber.on("ready", () => void this.#resubscribe());
    for (const client of [this.command, this.subscriber]) client.on("close", () => this.#updateStatus());
    this.subscriber.on("close", () => {
      this.#resubscribed = false;
    });
    this.subscriber.on("message", options.onMessage);
    this.#watchdog = setInterval(() => void this.#checkAnswering(), WATCHDOG_INTERVAL_MS);
    // A script that forgets close() must not be kept alive by the watchdog alone.
    (this.#watchdog as { unref?: () => void }).unref?.();
  }

  /** `connecting` until Redis first answers, then `up` or `down`. */
  get status(): LayerStatus {
    return this.#status;
  }

  onStatus(listener: (status: LayerStatus) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** How many pub/sub channels are held. */
  get subscriptions(): number {
    return this.#subscribed.size;
  }

  /**
   * Runs a Redis call. A call Redis never got is `LayerUnavailableError`; one it got but did not
   * answer in time (or whose connection dropped before the answer) is `LayerOutcomeUnknownError`.
   */
  async call<T>(run: () => Promise<T>): Promise<T> {
    if (this.#closed) throw new LayerClosedError();
    if (this.#status === "connecting") {
      await this.#firstConnection();
      if (this.#closed) throw new LayerClosedError();
    }
    // Known to hang: refuse now rather than add to what Redis will find when it wakes.
    if (this.#stalled) throw new LayerUnavailableError(new Error("Redis stopped answering"));
    try {
      return await run();
    } catch (error) {
      throw this.#classify(error);
    }
  }

  /** Holds a pub/sub channel from now on, across reconnects. */
  async subscribe(channel: string): Promise<void> {
    if (this.#subscribed.has(channel)) return;
    try {
      await this.call(() => this.subscriber.subscribe(channel));
    } catch (error) {
      // A SUBSCRIBE Redis may still carry out when it wakes: take it back, in order, best effort.
      if (error instanceof LayerOutcomeUnknownError) this.subscriber.unsubscribe(channel).catch(() => {});
      throw error;
    }
    this.#subscribed.add(channel);
  }

  /** Lets a pub/sub channel go. Best effort: if Redis is down, the subscription died with the connection. */
  async unsubscribe(channel: string): Promise<void> {
    if (!this.#subscribed.delete(channel)) return;
    await this.subscriber.unsubscribe(channel).catch(() => {});
  }

  /** A connection for one blocking read; give it back with `release`. */
  blocking(): Redis {
    const idle = this.#idleBlocking.pop();
    if (idle) return idle;
    // A worker's receive() may wait out an outage: its reads queue until Redis is back, and a read
    // in flight when the connection drops is sent again after it reconnects.
    const connection = this.command.duplicate({
      enableOfflineQueue: true,
      maxRetriesPerRequest: null,
      commandTimeout: undefined,
    });
    connection.on("error", () => {});
    this.#blocking.add(connection);
    return connection;
  }

  /** Returns a blocking connection to the pool. */
  release(connection: Redis): void {
    if (!this.#closed) this.#idleBlocking.push(connection);
  }

  /** Ends every connection; blocked reads end with them. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#watchdog);
    for (const client of [this.command, this.subscriber, this.inboxReader, ...this.#blocking]) {
      client.disconnect();
    }
  }

  // --- internals ---------------------------------------------------------------------------------

  /** A call made right after the backplane was created waits for Redis, then fails clearly. */
  async #firstConnection(): Promise<void> {
    try {
      await waitUntilUp(this, this.#connectTimeoutMs);
    } catch {
      const where = this.#url.replace(/\/\/[^@/]*@/, "//"); // never log a password
      throw new LayerUnavailableError(
        new Error(`could not connect to Redis at ${where} within ${this.#connectTimeoutMs} ms`),
      );
    }
  }

  /** Sorts a failed call; one that timed out means Redis stopped answering. */
  #classify(error: unknown): Error {
    const sorted = classifyCallError(error, this.#closed);
    if (sorted instanceof LayerOutcomeUnknownError && timedOut(error)) this.#setStalled(true);
    return sorted;
  }

  /** PINGs once a second, one at a time: a Redis that stops answering is `down` within a few seconds. */
  async #checkAnswering(): Promise<void> {
    if (this.#pinging || this.#closed || this.command.status !== "ready") return;
    this.#pinging = true;
    try {
      await this.command.ping();
      this.#setStalled(false);
    } catch {
      this.#setStalled(true);
    } finally {
      this.#pinging = false;
    }
  }

  #setStalled(stalled: boolean): void {
    if (this.#stalled === stalled) return;
    this.#stalled = stalled;
    this.#updateStatus();
  }

  async #resubscribe(): Promise<void> {
    try {
      if (this.#subscribed.size > 0) await this.subscriber.subscribe(...this.#subscribed);
    } catch {
      return; // Redis went away again; its next "ready" tries again
    }
    this.#resubscribed = true;
    this.#updateStatus();
  }

  #updateStatus(): void {
    const up =
      this.command.status === "ready" &&
      this.subscriber.status === "ready" &&
      this.#resubscribed &&
      !this.#stalled;
    // Until the first "up", a connection that is not ready yet is still "connecting", not "down".
    const status = up ? "up" : this.#status === "connecting" ? "connecting" : "down";
    if (this.#closed || status === this.#status) return;
    this.#status = status;
    for (const listener of this.#listeners) listener(status);
  }
}

/**
 * Sorts a failed Redis call: never written (`LayerUnavailableError`), or written with no answer
 * (`LayerOutcomeUnknownError`: it may have been carried out). Shared with the cluster backplane.
 */
export function classifyCallError(error: unknown, closed: boolean): Error {
  // Our own errors, a caller's abort (AbortSignal.timeout() aborts with a "TimeoutError", which
  // says nothing about Redis) and Redis's own refusals (it answered) pass through as they are.
  const name = (error as Error)?.name;
  if (error instanceof ChannelsError || name === "AbortError" || name === "TimeoutError")
    return error as Error;
  if (closed) return new LayerClosedError();
  if ((error as Error)?.name === "ReplyError" || NOT_SENT.test((error as Error)?.message ?? "")) {
    return new LayerUnavailableError(error);
  }
  return new LayerOutcomeUnknownError(error);
}

/** Whether a call failed because its answer did not come within the command time bound. */
export function timedOut(error: unknown): boolean {
  return /timed out/i.test((error as Error)?.message ?? "");
}
