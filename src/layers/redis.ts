/**
 * `RedisChannelLayer`: the channel layer for many processes (`CHANNEL_LAYER=redis`).
 *
 * - Channels a consumer of this process owns (`specific.<process>!<id>`) live in a local
 *   `InMemoryChannelLayer`: delivery to them is a direct push, as in one process.
 * - A group with local members is a pub/sub subscription: `groupSend` is one Lua script that
 *   publishes once, and each subscribed process fans out to its own members. Members stored in
 *   Redis (plain channels, or another process's channels added from here) get the message queued
 *   by the same script.
 * - `send` to a plain channel queues on its Redis list (workers `receive()` it); to another
 *   process's channel, on that process's inbox list, which the process drains with BLPOP.
 * - Redis down: calls reject at once with `LayerUnavailableError`, the layer reconnects with
 *   backoff, re-subscribes its groups and reports its status to `onStatus` listeners.
 */
import Redis from "ioredis";
import { ChannelFull, ChannelsError, LayerClosedError, LayerUnavailableError } from "../errors.ts";
import type { Logger } from "../log.ts";
import {
  type ChannelLayer,
  type ChannelSink,
  LAYER_DEFAULTS,
  type LayerOptions,
  type LayerStatus,
  type Message,
  type MessageMap,
  type MessageOf,
} from "./layer.ts";
import { InMemoryChannelLayer } from "./memory.ts";
import { globToLuaPattern, groupSendScript, sendScript } from "./redis-scripts.ts";
import { assertChannelName, assertGroupName, assertMessage, capacityLookup } from "./rules.ts";

/** Options of the Redis layer. */
export interface RedisLayerOptions extends LayerOptions {
  /** `redis://host:port/db`. Default `redis://127.0.0.1:6379`. */
  url?: string;
  /** Prefix of every key and pub/sub channel, so several apps can share one Redis. Default `hc`. */
  prefix?: string;
  /** Milliseconds since the epoch; tests pass a fake clock for expiry. */
  now?: () => number;
  logger?: Logger;
}

/**
 * Messages a process's inbox (every channel of its consumers, sent from other processes) may
 * hold. Per-channel capacity is applied when the process takes them in; this only bounds Redis
 * memory if a process stops draining. Past it, `send` throws `ChannelFull`.
 */
export const INBOX_CAPACITY = 10_000;
// Inbox entries taken per round trip once one has arrived.
const INBOX_BATCH = 100;
// How long a blocking read waits before looking again at whether it was cancelled (seconds).
const BLOCK_SECONDS = 1;
const RECONNECT_MAX_MS = 500;

/** A channel layer shared by every process connected to one Redis. */
export class RedisChannelLayer<M extends MessageMap = MessageMap> implements ChannelLayer<M> {
  readonly #local: InMemoryChannelLayer;
  readonly #redis: Redis;
  readonly #subscriber: Redis;
  readonly #inboxReader: Redis;
  readonly #idleBlocking: Redis[] = [];
  /** Every connection made for blocking reads, so close() can end reads still waiting. */
  readonly #blocking = new Set<Redis>();
  readonly #prefix: string;
  readonly #token = crypto.randomUUID().replaceAll("-", "").slice(0, 12);
  readonly #capacityOf: (channel: string) => number;
  readonly #capacityRules: Array<string | number>;
  readonly #capacity: number;
  readonly #expiryMs: number;
  readonly #groupExpiryMs: number;
  readonly #now: () => number;
  readonly #logger: Logger | undefined;
  readonly #subscribed = new Set<string>();
  /** The last queued join or leave per group, so they run in order (see #inOrder). */
  readonly #groupOps = new Map<string, Promise<void>>();
  readonly #statusListeners = new Set<(status: LayerStatus) => void>();
  #status: LayerStatus = "connecting";
  /** Whether the subscriber's current connection has subscribed every group of `#subscribed`. */
  #resubscribed = false;
  #closed = false;
  /** Messages for this process's channels dropped because the local channel was full. */
  droppedFull = 0;

  constructor(options: RedisLayerOptions = {}) {
    this.#local = new InMemoryChannelLayer(options);
    this.#prefix = options.prefix ?? "hc";
    this.#capacityOf = capacityLookup(options);
    this.#capacity = options.capacity ?? LAYER_DEFAULTS.capacity;
    this.#capacityRules = Object.entries(options.channelCapacity ?? {}).flatMap(([glob, capacity]) => [
      globToLuaPattern(glob),
      capacity,
    ]);
    this.#expiryMs = (options.expiry ?? LAYER_DEFAULTS.expiry) * 1000;
    this.#groupExpiryMs = (options.groupExpiry ?? LAYER_DEFAULTS.groupExpiry) * 1000;
    this.#now = options.now ?? Date.now;
    this.#logger = options.logger;

    const connection = {
      // Fail calls at once while Redis is away instead of queueing them without bound.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: (attempt: number) => Math.min(attempt * 50, RECONNECT_MAX_MS),
    };
    const url = options.url ?? "redis://127.0.0.1:6379";
    this.#redis = new Redis(url, { ...connection, commandTimeout: 2000 });
    // `#subscribed` is the one list of what to re-subscribe: ioredis's own autoResubscribe would also
    // bring back groups left while Redis was down (their UNSUBSCRIBE could not be sent).
    this.#subscriber = new Redis(url, { ...connection, autoResubscribe: false });
    this.#inboxReader = new Redis(url, connection);
    for (const client of [this.#redis, this.#subscriber, this.#inboxReader]) {
      client.on("error", (error: Error) => this.#logger?.debug(`redis: ${error.message}`));
    }
    // Up when both commands and subscriptions work: a groupAdd needs the subscriber too, and a
    // groupSend right after "up" must reach this process's members, so the subscriber counts as up
    // only once its groups are subscribed again.
    this.#redis.on("ready", () => this.#updateStatus());
    this.#subscriber.on("ready", () => void this.#resubscribe());
    for (const client of [this.#redis, this.#subscriber]) client.on("close", () => this.#updateStatus());
    this.#subscriber.on("close", () => {
      this.#resubscribed = false;
    });
    this.#subscriber.on("messageBuffer", (channel: Buffer, payload: Buffer) =>
      this.#onGroupMessage(channel, payload),
    );
    void this.#drainInbox();
  }

  /** `connecting` until Redis first answers, then `up` or `down`. */
  get status(): LayerStatus {
    return this.#status;
  }

  /** Calls `listener` whenever the connection to Redis goes up or down; returns the way to stop. */
  onStatus(listener: (status: LayerStatus) => void): () => void {
    this.#statusListeners.add(listener);
    return () => this.#statusListeners.delete(listener);
  }

  async send(channel: string, message: MessageOf<M>): Promise<void> {
    this.#assertOpen();
    assertChannelName(channel);
    assertMessage(message);
    if (this.#isLocal(channel)) return this.#local.send(channel, message);
    const owner = ownerOf(channel);
    const key = owner ? this.#key("inbox", owner) : this.#key("ch", channel);
    const envelope = this.#envelope(message, owner ? channel : null);
    // Another process's channels share its inbox: that inbox has its own bound, and the channel's
    // capacity is applied by the owning process.
    const capacity = owner ? INBOX_CAPACITY : this.#capacityOf(channel);
    const queued = await this.#call(() =>
      sendScript.run(this.#redis, [key], [envelope, capacity, this.#now(), this.#expiryMs]),
    );
    if (queued === 0) throw new ChannelFull(channel, capacity);
  }

  async receive(channel: string, options: { signal?: AbortSignal } = {}): Promise<Message> {
    this.#assertOpen();
    assertChannelName(channel);
    if (this.#isLocal(channel)) return this.#local.receive(channel, options);
    if (ownerOf(channel)) {
      throw new ChannelsError(
        "NOT_LOCAL",
        `Channel ${channel} belongs to another process; only it can receive there.`,
      );
    }
    return this.#receiveFromList(this.#key("ch", channel), options.signal);
  }

  async newChannel(prefix = "specific"): Promise<string> {
    this.#assertOpen();
    const name = `${prefix}.${this.#token}!${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
    assertChannelName(name);
    return name;
  }

  listen(channel: string, sink: ChannelSink): () => void {
    if (!this.#isLocal(channel)) {
      throw new ChannelsError(
        "NOT_LOCAL",
        `Only channels from this process's newChannel() can be listened to: ${channel}`,
      );
    }
    return this.#local.listen(channel, sink);
  }

  async groupAdd(group: string, channel: string): Promise<void> {
    this.#assertOpen();
    assertGroupName(group);
    assertChannelName(channel);
    if (!this.#isLocal(channel)) {
      const key = this.#key("group", group);
      await this.#call(() =>
        this.#redis.multi().zadd(key, this.#now(), channel).pexpire(key, this.#groupExpiryMs).exec(),
      );
      return;
    }
    await this.#inOrder(group, async () => {
      if (!this.#subscribed.has(group)) {
        // Subscribe before counting the member in: a groupSend that follows must reach it.
        await this.#call(() => this.#subscriber.subscribe(this.#key("gpub", group)));
        this.#subscribed.add(group);
      }
      await this.#local.groupAdd(group, channel);
    });
  }

  async groupDiscard(group: string, channel: string): Promise<void> {
    this.#assertOpen();
    assertGroupName(group);
    assertChannelName(channel);
    if (!this.#isLocal(channel)) {
      await this.#call(() => this.#redis.zrem(this.#key("group", group), channel));
      return;
    }
    await this.#inOrder(group, async () => {
      await this.#local.groupDiscard(group, channel);
      if (!this.#local.hasMembers(group) && this.#subscribed.delete(group)) {
        // Best effort: if Redis is down, the subscription dies with the connection anyway.
        await this.#subscriber.unsubscribe(this.#key("gpub", group)).catch(() => {});
      }
    });
  }

  /**
   * Runs one group's local joins and leaves one after another. Interleaved, a leave could send its
   * UNSUBSCRIBE after a concurrent join's SUBSCRIBE, leaving a member counted but not subscribed.
   */
  #inOrder(group: string, task: () => Promise<void>): Promise<void> {
    const run = (this.#groupOps.get(group) ?? Promise.resolve()).then(task);
    const settled = run.catch(() => {});
    this.#groupOps.set(group, settled);
    void settled.then(() => {
      if (this.#groupOps.get(group) === settled) this.#groupOps.delete(group);
    });
    return run;
  }

  async groupSend(group: string, message: MessageOf<M>): Promise<void> {
    this.#assertOpen();
    assertGroupName(group);
    assertMessage(message);
    const now = this.#now();
    const skipped = await this.#call(() =>
      groupSendScript.run(
        this.#redis,
        [this.#key("group", group)],
        [
          this.#key("gpub", group),
          now,
          this.#groupExpiryMs,
          JSON.stringify(message),
          now + this.#expiryMs,
          this.#capacity,
          this.#expiryMs,
          this.#prefix,
          INBOX_CAPACITY,
          ...this.#capacityRules,
        ],
      ),
    );
    if (typeof skipped === "number" && skipped > 0) {
      this.#logger?.warn(`groupSend(${group}): skipped ${skipped} full channel(s)`, { group, skipped });
    }
  }

  async flush(): Promise<void> {
    this.#assertOpen();
    await this.#local.flush();
    let cursor = "0";
    do {
      const [next, keys] = await this.#call(() =>
        this.#redis.scan(cursor, "MATCH", `${this.#prefix}:*`, "COUNT", 500),
      );
      if (keys.length > 0) await this.#call(() => this.#redis.unlink(...keys));
      cursor = next;
    } while (cursor !== "0");
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#local.close();
    for (const client of [this.#redis, this.#subscriber, this.#inboxReader, ...this.#blocking]) {
      client.disconnect();
    }
  }

  /** The channels of `group`, local and stored in Redis (for tests and inspection). */
  async groupChannels(group: string): Promise<string[]> {
    const stored = await this.#call(() =>
      this.#redis.zrangebyscore(this.#key("group", group), this.#now() - this.#groupExpiryMs, "+inf"),
    );
    return [...this.#local.groupChannels(group), ...stored];
  }

  /** What this process holds in memory: local channels and memberships, and group subscriptions. */
  get size(): { channels: number; groups: number; memberships: number; subscriptions: number } {
    return { ...this.#local.size, subscriptions: this.#subscribed.size };
  }

  // --- internals ---------------------------------------------------------------------------------

  #key(kind: "ch" | "inbox" | "group" | "gpub", name: string): string {
    return `${this.#prefix}:${kind}:${name}`;
  }

  #isLocal(channel: string): boolean {
    return ownerOf(channel) === this.#token;
  }

  #envelope(message: Message, channel: string | null): string {
    const expires = this.#now() + this.#expiryMs;
    const target = channel ? `,"c":${JSON.stringify(channel)}` : "";
    return `{"e":${expires}${target},"m":${JSON.stringify(message)}}`;
  }

  /** Runs a Redis call; connection failures become `LayerUnavailableError`. */
  async #call<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      // Our own errors and a caller's abort pass through; anything else means Redis failed us.
      if (error instanceof ChannelsError || (error as Error)?.name === "AbortError") throw error;
      if (this.#closed) throw new LayerClosedError();
      throw new LayerUnavailableError(error);
    }
  }

  /** A group message published by any process: hand it to this process's members. */
  #onGroupMessage(channel: Buffer, payload: Buffer): void {
    const group = channel.toString().slice(this.#key("gpub", "").length);
    const text = payload.toString();
    let unused: Message | null;
    try {
      const parsed: unknown = JSON.parse(text);
      assertMessage(parsed);
      unused = parsed;
    } catch (error) {
      this.#logger?.error(`redis layer: unreadable group message on ${group}`, { error });
      return;
    }
    // Each member gets its own parse of the payload (as good as a clone, and cheaper); the first
    // takes the one made to check it, so a one-member group parses once.
    this.#local.deliverToGroup(group, () => {
      const own = unused ?? (JSON.parse(text) as Message);
      unused = null;
      return own;
    });
  }

  /** Messages other processes sent to this process's channels arrive on its inbox list. */
  async #drainInbox(): Promise<void> {
    const inbox = this.#key("inbox", this.#token);
    // BLMPOP (Redis 7) takes a batch in one round trip; older servers get BLPOP, then LPOP the rest.
    let batched = true;
    while (!this.#closed) {
      let entries: string[];
      try {
        if (batched) {
          const popped = await this.#inboxReader.blmpop(
            BLOCK_SECONDS,
            1,
            inbox,
            "LEFT",
            "COUNT",
            INBOX_BATCH,
          );
          if (!popped) continue;
          entries = popped[1];
        } else {
          const popped = await this.#inboxReader.blpop(inbox, BLOCK_SECONDS);
          if (!popped) continue;
          const more = await this.#inboxReader.lpop(inbox, INBOX_BATCH);
          entries = [popped[1], ...(more ?? [])];
        }
      } catch (error) {
        if (batched && /unknown command/i.test(String(error))) {
          batched = false;
          continue;
        }
        if (!this.#closed) await sleep(RECONNECT_MAX_MS); // Redis is away; the client reconnects
        continue;
      }
      for (const entry of entries) await this.#takeIn(entry);
    }
  }

  /** Hands one inbox entry to its local channel, applying that channel's capacity. */
  async #takeIn(entry: string): Promise<void> {
    let envelope: { e: number; c: string; m: Message };
    try {
      envelope = JSON.parse(entry) as { e: number; c: string; m: Message };
    } catch (error) {
      this.#logger?.error("redis layer: unreadable inbox entry", { error });
      return;
    }
    if (envelope.e <= this.#now()) return;
    await this.#local.send(envelope.c, envelope.m).catch((error: unknown) => {
      // The sender could not be told: count it, as groupSend counts full members.
      this.droppedFull++;
      this.#logger?.warn(`redis layer: dropped a message for ${envelope.c}`, { error });
    });
  }

  async #receiveFromList(key: string, signal: AbortSignal | undefined): Promise<Message> {
    signal?.throwIfAborted();
    const connection = this.#idleBlocking.pop() ?? this.#newBlockingConnection();
    const read = (async () => {
      try {
        for (;;) {
          const popped = await connection.blpop(key, BLOCK_SECONDS);
          if (signal?.aborted || this.#closed) {
            // Nobody waits for it any more: put it back where it was. BLPOP deleted the list if that
            // was its last entry, so the TTL every queued list carries is set again with it.
            if (popped) {
              await this.#redis
                .multi()
                .lpush(key, popped[1])
                .pexpire(key, this.#expiryMs)
                .exec()
                .catch(() => {});
            }
            throw signal?.reason ?? new LayerClosedError();
          }
          if (!popped) continue;
          const envelope = JSON.parse(popped[1]) as { e: number; m: Message };
          if (envelope.e > this.#now()) return envelope.m;
        }
      } finally {
        if (!this.#closed) this.#idleBlocking.push(connection);
      }
    })();
    if (!signal) return this.#call(() => read);
    let onAbort = () => {};
    const aborted = new Promise<never>((_resolve, reject) => {
      onAbort = () => reject(signal.reason);
      signal.addEventListener("abort", onAbort, { once: true });
    });
    read.catch(() => {}); // after an abort its rejection is expected and unobserved
    try {
      return await this.#call(() => Promise.race([read, aborted]));
    } finally {
      signal.removeEventListener("abort", onAbort); // a worker reusing one signal must not pile them up
    }
  }

  #newBlockingConnection(): Redis {
    // A worker's receive() may wait out an outage: its reads queue until Redis is back, and a read
    // in flight when the connection drops is sent again after it reconnects (maxRetriesPerRequest 0,
    // inherited from the command connection, would reject it instead).
    const connection = this.#redis.duplicate({
      enableOfflineQueue: true,
      maxRetriesPerRequest: null,
      commandTimeout: undefined,
    });
    connection.on("error", () => {});
    this.#blocking.add(connection);
    return connection;
  }

  async #resubscribe(): Promise<void> {
    const channels = [...this.#subscribed].map((group) => this.#key("gpub", group));
    try {
      if (channels.length > 0) await this.#subscriber.subscribe(...channels);
    } catch {
      return; // Redis went away again; its next "ready" tries again
    }
    this.#resubscribed = true;
    this.#updateStatus();
  }

  #updateStatus(): void {
    const up = this.#redis.status === "ready" && this.#subscriber.status === "ready" && this.#resubscribed;
    // Until the first "up", a connection that is not ready yet is still "connecting", not "down".
    const status = up ? "up" : this.#status === "connecting" ? "connecting" : "down";
    if (this.#closed || status === this.#status) return;
    this.#status = status;
    for (const listener of this.#statusListeners) listener(status);
  }

  #assertOpen(): void {
    if (this.#closed) throw new LayerClosedError();
  }
}

/** The process token of a `name.<token>!id` channel, or null for a plain channel. */
function ownerOf(channel: string): string | null {
  return /([^.]+)!/.exec(channel)?.[1] ?? null;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
