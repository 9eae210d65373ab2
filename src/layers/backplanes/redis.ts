/**
 * The Redis backplane (`CHANNEL_LAYER=redis`).
 *
 * - A group with members in this process is a pub/sub subscription: `groupSend` is one Lua script
 *   that publishes the msgpack message once, and each subscribed process fans out to its members.
 *   Members stored in Redis (plain channels, or another process's channels added from here) get
 *   the message queued by the same script.
 * - `send` to a plain channel queues on its Redis list (workers `receive()` it); to another
 *   process's channel, on that process's inbox list, which the process drains in batches.
 * - Redis down: calls reject with `LayerUnavailableError`, the connections reconnect with backoff,
 *   re-subscribe, and report the status.
 */
import { ChannelFull } from "../../errors.ts";
import { type Logger, throttledWarning } from "../../log.ts";
import { copyMessage } from "../codec.ts";
import { LAYER_DEFAULTS, type LayerOptions, type LayerStatus, type Message } from "../layer.ts";
import { capacityLookup, processOf } from "../rules.ts";
import type { Backplane, BackplaneReceiver } from "./backplane.ts";
import { RedisConnections } from "./redis-connections.ts";
import { decodeEntry, encodeEntry, fromWire, toWire } from "./redis-entries.ts";
import { drainInbox, receiveFromList } from "./redis-queues.ts";
import {
  acquireLeaseScript,
  globToLuaPattern,
  groupSendScript,
  releaseLeaseScript,
  sendScript,
} from "./redis-scripts.ts";

/** Options of the Redis backplane. */
export interface RedisBackplaneOptions extends LayerOptions {
  /** `redis://host:port/db`. Default `redis://127.0.0.1:6379`. */
  url?: string;
  /** Prefix of every key and pub/sub channel, so several apps can share one Redis. Default `hc`. */
  prefix?: string;
  /** How long calls made before the first connection wait for it (ms). Default 5000. */
  connectTimeoutMs?: number;
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

/** What crosses processes, through one Redis. */
export class RedisBackplane implements Backplane {
  readonly processId = crypto.randomUUID().replaceAll("-", "").slice(0, 12);
  readonly #redis: RedisConnections;
  readonly #prefix: string;
  readonly #capacityOf: (channel: string) => number;
  readonly #capacityRules: Array<string | number>;
  readonly #capacity: number;
  readonly #expiryMs: number;
  readonly #groupExpiryMs: number;
  readonly #now: () => number;
  readonly #logger: Logger | undefined;
  /** One line a second at most for full channels: a burst must not flood the log. */
  readonly #warnFull: ReturnType<typeof throttledWarning>;
  #receiver: BackplaneReceiver | null = null;
  /** Messages for this process's channels dropped because the local channel was full. */
  droppedFull = 0;

  constructor(options: RedisBackplaneOptions = {}) {
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
    this.#warnFull = throttledWarning(options.logger);
    this.#redis = new RedisConnections({
      url: options.url ?? "redis://127.0.0.1:6379",
      connectTimeoutMs: options.connectTimeoutMs ?? 5000,
      logger: options.logger,
      onMessage: (channel, payload) => this.#onGroupMessage(channel, payload),
    });
  }

  get status(): LayerStatus {
    return this.#redis.status;
  }

  onStatus(listener: (status: LayerStatus) => void): () => void {
    return this.#redis.onStatus(listener);
  }

  get subscriptions(): number {
    return this.#redis.subscriptions;
  }

  start(receiver: BackplaneReceiver): void {
    this.#receiver = receiver;
    void drainInbox(this.#redis, this.#key("inbox", this.processId), (entry) => this.#takeIn(entry));
  }

  subscribe(group: string): Promise<void> {
    return this.#redis.subscribe(this.#key("gpub", group));
  }

  unsubscribe(group: string): Promise<void> {
    return this.#redis.unsubscribe(this.#key("gpub", group));
  }

  async groupSend(group: string, message: Message): Promise<void> {
    const payload = toWire(message);
    const now = this.#now();
    const skipped = await this.#redis.call(() =>
      groupSendScript.run(
        this.#redis.command,
        [this.#key("group", group)],
        [
          this.#key("gpub", group),
          now,
          this.#groupExpiryMs,
          payload,
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
      this.#warnFull(
        (times) => `groupSend: full stored member(s) skipped ${times} time(s), e.g. in ${group}`,
        {
          group,
        },
      );
    }
  }

  async groupAdd(group: string, channel: string): Promise<void> {
    const key = this.#key("group", group);
    await this.#redis.call(() =>
      this.#redis.command.multi().zadd(key, this.#now(), channel).pexpire(key, this.#groupExpiryMs).exec(),
    );
  }

  async groupDiscard(group: string, channel: string): Promise<void> {
    await this.#redis.call(() => this.#redis.command.zrem(this.#key("group", group), channel));
  }

  async send(channel: string, message: Message): Promise<void> {
    const owner = processOf(channel);
    // Another process's channels share its inbox: that inbox has its own bound, and the channel's
    // capacity is applied by the owning process.
    const key = owner ? this.#key("inbox", owner) : this.#key("ch", channel);
    const capacity = owner ? INBOX_CAPACITY : this.#capacityOf(channel);
    const now = this.#now();
    const entry = encodeEntry(now + this.#expiryMs, channel, toWire(message));
    const queued = await this.#redis.call(() =>
      sendScript.run(this.#redis.command, [key], [entry, capacity, now, this.#expiryMs]),
    );
    if (queued === 0) throw new ChannelFull(channel, capacity);
  }

  receive(channel: string, signal?: AbortSignal): Promise<Message> {
    return receiveFromList(
      this.#redis,
      this.#key("ch", channel),
      { expiryMs: this.#expiryMs, now: this.#now },
      signal,
    );
  }

  async flush(): Promise<void> {
    let cursor = "0";
    do {
      const [next, keys] = await this.#redis.call(() =>
        this.#redis.command.scan(cursor, "MATCH", `${this.#prefix}:*`, "COUNT", 500),
      );
      if (keys.length > 0) await this.#redis.call(() => this.#redis.command.unlink(...keys));
      cursor = next;
    } while (cursor !== "0");
  }

  async acquireLease(name: string, holder: string, ttlMs: number): Promise<boolean> {
    const held = await this.#redis.call(() =>
      acquireLeaseScript.run(this.#redis.command, [this.#key("lease", name)], [holder, Math.ceil(ttlMs)]),
    );
    return held === 1;
  }

  async releaseLease(name: string, holder: string): Promise<void> {
    await this.#redis.call(() =>
      releaseLeaseScript.run(this.#redis.command, [this.#key("lease", name)], [holder]),
    );
  }

  async close(): Promise<void> {
    this.#redis.close();
  }

  /** The channels of `group` stored in Redis (for tests and inspection). */
  storedMembers(group: string): Promise<string[]> {
    return this.#redis.call(() =>
      this.#redis.command.zrangebyscore(this.#key("group", group), this.#now() - this.#groupExpiryMs, "+inf"),
    );
  }

  // --- internals ---------------------------------------------------------------------------------

  #key(kind: "ch" | "inbox" | "group" | "gpub" | "lease", name: string): string {
    return `${this.#prefix}:${kind}:${name}`;
  }

  /** A group message published by any process: hand it to this process's members. */
  #onGroupMessage(channel: string, payload: string): void {
    const group = channel.slice(this.#key("gpub", "").length);
    let unused: Message | null;
    try {
      unused = fromWire(payload);
    } catch (error) {
      this.#logger?.error(`redis layer: unreadable group message on ${group}`, { error });
      return;
    }
    // Decoded once; the first member takes that, the others a copy of it.
    const decoded = unused;
    this.#receiver?.group(group, () => {
      const own = unused ?? copyMessage(decoded);
      unused = null;
      return own;
    });
  }

  /** Hands one inbox entry to its local channel, which applies its own capacity. */
  #takeIn(text: string): void {
    let entry: ReturnType<typeof decodeEntry>;
    try {
      entry = decodeEntry(text);
    } catch (error) {
      this.#logger?.error("redis layer: unreadable inbox entry", { error });
      return;
    }
    if (entry.expiresAt <= this.#now()) return;
    if (!this.#receiver?.channel(entry.channel, entry.message)) {
      // The sender could not be told: count it, as groupSend counts full members.
      this.droppedFull++;
      this.#warnFull(
        (times) => `redis layer: ${times} message(s) for full local channels dropped, e.g. ${entry.channel}`,
        {
          channel: entry.channel,
        },
      );
    }
  }
}
