/**
 * The Redis Cluster backplane (`CHANNEL_LAYER=redis-cluster`): the Redis backplane's semantics
 * spread over a cluster's shards.
 *
 * - Every key and shard channel carries its name as a hash tag: `hc:group:{room}` and the shard
 *   channel `hc:gpub:{room}` share a slot, so the group script (expire memberships, SPUBLISH once)
 *   runs on one shard, the group's own. Group traffic spreads over the shards by group name.
 * - A process `SSUBSCRIBE`s to the shard channel of each group with local members, on the shard
 *   that owns its slot; ioredis moves the subscription when the slot moves.
 * - Members stored in Redis (plain channels, another process's channels) live on other slots:
 *   after the script, `groupSend` queues the message on each of their lists with the same
 *   one-key script as `send`. A stored member on a dead shard is skipped and counted, like a full one.
 * - A dead or frozen shard fails the calls on its slots with the layer's errors; the others go on.
 */
import { ChannelFull, LayerUnavailableError } from "../../errors.ts";
import { type Logger, throttledWarning } from "../../log.ts";
import { copyMessage } from "../codec.ts";
import { LAYER_DEFAULTS, type LayerOptions, type LayerStatus, type Message } from "../layer.ts";
import { capacityLookup, processOf } from "../rules.ts";
import type { Backplane, BackplaneReceiver } from "./backplane.ts";
import { INBOX_CAPACITY } from "./redis.ts";
import { RedisClusterConnections } from "./redis-cluster-connections.ts";
import { clusterGroupSendScript, flushCluster, parseClusterNodes } from "./redis-cluster-scripts.ts";
import { decodeEntry, encodeEntry, fromWire, toWire } from "./redis-entries.ts";
import { drainInbox, receiveFromList } from "./redis-queues.ts";
import { acquireLeaseScript, releaseLeaseScript, sendScript } from "./redis-scripts.ts";

/** Options of the Redis Cluster backplane. */
export interface RedisClusterBackplaneOptions extends LayerOptions {
  /** Seed nodes, `host:port` each (an array, or comma-separated). Default `127.0.0.1:7000`. */
  nodes?: string | string[];
  /** Prefix of every key and shard channel, so several apps can share one cluster. Default `hc`. */
  prefix?: string;
  /** How long calls made before the first connection wait for it (ms). Default 5000. */
  connectTimeoutMs?: number;
  /** Milliseconds since the epoch; tests pass a fake clock for expiry. */
  now?: () => number;
  logger?: Logger;
}

/** What crosses processes, through a Redis Cluster with sharded pub/sub. */
export class RedisClusterBackplane implements Backplane {
  readonly processId = crypto.randomUUID().replaceAll("-", "").slice(0, 12);
  readonly #redis: RedisClusterConnections;
  readonly #prefix: string;
  readonly #capacityOf: (channel: string) => number;
  readonly #expiryMs: number;
  readonly #groupExpiryMs: number;
  readonly #now: () => number;
  readonly #logger: Logger | undefined;
  /** One line a second at most for full channels: a burst must not flood the log. */
  readonly #warnFull: ReturnType<typeof throttledWarning>;
  #receiver: BackplaneReceiver | null = null;
  /** Messages for this process's channels dropped because the local channel was full. */
  droppedFull = 0;

  constructor(options: RedisClusterBackplaneOptions = {}) {
    this.#prefix = options.prefix ?? "hc";
    // A brace in the prefix would become every key's hash tag: the whole app on one slot.
    if (/[{}]/.test(this.#prefix)) throw new TypeError(`Redis prefix "${this.#prefix}" must not hold { or }`);
    this.#capacityOf = capacityLookup(options);
    this.#expiryMs = (options.expiry ?? LAYER_DEFAULTS.expiry) * 1000;
    this.#groupExpiryMs = (options.groupExpiry ?? LAYER_DEFAULTS.groupExpiry) * 1000;
    this.#now = options.now ?? Date.now;
    this.#logger = options.logger;
    this.#warnFull = throttledWarning(options.logger);
    this.#redis = new RedisClusterConnections({
      nodes: parseClusterNodes(options.nodes ?? "127.0.0.1:7000"),
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
    const members = (await this.#redis.call(() =>
      clusterGroupSendScript.run(
        this.#redis.command,
        [this.#key("group", group)],
        [this.#key("gpub", group), now, this.#groupExpiryMs, payload],
      ),
    )) as string[];
    if (members.length === 0) return;
    // The group's own shard has published; each stored member's list may live on another shard.
    const queued = await Promise.all(
      members.map((channel) => this.#queue(channel, payload, now).catch(() => false)),
    );
    const skipped = queued.filter((ok) => !ok).length;
    if (skipped > 0) {
      this.#warnFull(
        (times) =>
          `groupSend: full or unreachable stored member(s) skipped ${times} time(s), e.g. in ${group}`,
        { group },
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
    if (!(await this.#queue(channel, toWire(message), this.#now()))) {
      throw new ChannelFull(channel, processOf(channel) ? INBOX_CAPACITY : this.#capacityOf(channel));
    }
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
    const failed = await this.#redis.call(() => flushCluster(this.#redis.command, `${this.#prefix}:*`));
    if (failed.length > 0) {
      throw new LayerUnavailableError(new Error(`flush: shard(s) ${failed.join(", ")} did not answer`));
    }
  }

  /** A lease is one key: it lives on the slot of its name, like everything else here. */
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

  /** Primaries that did not answer the last check (`host:port`), for status pages and tests. */
  get shardsAway(): string[] {
    return this.#redis.away;
  }

  // --- internals ---------------------------------------------------------------------------------

  /** The hash tag is the name: one script's keys (a group and its shard channel) share a slot. */
  #key(kind: "ch" | "inbox" | "group" | "gpub" | "lease", name: string): string {
    return `${this.#prefix}:${kind}:{${name}}`;
  }

  /** Queues `payload` for `channel` (plain: its list; another process's: that inbox); false if full. */
  async #queue(channel: string, payload: string, now: number): Promise<boolean> {
    const owner = processOf(channel);
    // Another process's channels share its inbox: that inbox has its own bound, and the channel's
    // capacity is applied by the owning process.
    const key = owner ? this.#key("inbox", owner) : this.#key("ch", channel);
    const capacity = owner ? INBOX_CAPACITY : this.#capacityOf(channel);
    const entry = encodeEntry(now + this.#expiryMs, channel, payload);
    const queued = await this.#redis.call(() =>
      sendScript.run(this.#redis.command, [key], [entry, capacity, now, this.#expiryMs]),
    );
    return queued !== 0;
  }

  /** A group message published by any process: hand it to this process's members. */
  #onGroupMessage(channel: string, payload: string): void {
    const tag = this.#key("gpub", "");
    if (!channel.startsWith(tag.slice(0, -1))) return;
    const group = channel.slice(tag.length - 1, -1);
    let unused: Message | null;
    try {
      unused = fromWire(payload);
    } catch (error) {
      this.#logger?.error(`redis cluster layer: unreadable group message on ${group}`, { error });
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
      this.#logger?.error("redis cluster layer: unreadable inbox entry", { error });
      return;
    }
    if (entry.expiresAt <= this.#now()) return;
    if (!this.#receiver?.channel(entry.channel, entry.message)) {
      this.droppedFull++;
      this.#warnFull(
        (times) =>
          `redis cluster layer: ${times} message(s) for full local channels dropped, e.g. ${entry.channel}`,
        { channel: entry.channel },
      );
    }
  }
}
