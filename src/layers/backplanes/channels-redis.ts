/**
 * The channels_redis wire backplane (`CHANNEL_LAYER=channels_redis`): it stores and reads exactly
 * what Django Channels' default `channels_redis.core.RedisChannelLayer` (4.x) does, so a Django
 * process and ours share groups, process channels and worker channels on one Redis.
 *
 * - Every channel's messages wait in a sorted set at `prefix + name`, scored by send time; a
 *   process's channels share the set of their part up to `!` (its inbox), which it alone pops.
 * - A group is a sorted set of member channels at `prefix + ":group:" + group`, scored by join
 *   time. Local members are stored there too (`keepsMemberships`): a Django `group_send` reads that
 *   set and queues one message per inbox, which this process then hands to its members.
 * - No pub/sub: a group message costs a round trip to read the members and one to queue, and each
 *   process's share waits in its inbox. The `redis` backplane is faster; this one is for sharing.
 */
import { ChannelFull } from "../../errors.ts";
import { type Logger, throttledWarning } from "../../log.ts";
import { LAYER_DEFAULTS, type LayerOptions, type LayerStatus, type Message } from "../layer.ts";
import { capacityLookup } from "../rules.ts";
import type { Backplane, BackplaneReceiver } from "./backplane.ts";
import { drainInboxes, type Popped, receiveFromSortedSet } from "./channels-redis-queues.ts";
import { groupMembersScript, groupSendScript, sendScript } from "./channels-redis-scripts.ts";
import { assertNoDestination, deserialize, serialize, type Wire } from "./channels-redis-wire.ts";
import { Fernet } from "./fernet.ts";
import { RedisConnections } from "./redis-connections.ts";
import { acquireLease, groupAddScript, releaseLease } from "./redis-scripts.ts";

/** Options of the channels_redis wire backplane. */
export interface ChannelsRedisBackplaneOptions extends LayerOptions {
  /** `redis://host:port/db`. Default `redis://127.0.0.1:6379`. */
  url?: string;
  /** channels_redis's `prefix`. Default `asgi`, as in channels_redis. */
  prefix?: string;
  /** channels_redis's `symmetric_encryption_keys`: the first encrypts, any decrypts. */
  encryptionKeys?: readonly string[];
  /** How long calls made before the first connection wait for it (ms). Default 5000. */
  connectTimeoutMs?: number;
  /** Milliseconds since the epoch; tests pass a fake clock for expiry. */
  now?: () => number;
  logger?: Logger;
}

/** What crosses processes, in channels_redis's format. */
export class ChannelsRedisBackplane implements Backplane {
  // channels_redis names a process by 32 hex digits; ours are shorter but of the same form.
  readonly processId = crypto.randomUUID().replaceAll("-", "");
  readonly keepsMemberships = true;
  readonly subscriptions = 0;
  readonly #redis: RedisConnections;
  readonly #prefix: string;
  readonly #wire: Wire;
  readonly #capacityOf: (channel: string) => number;
  readonly #expiry: number;
  readonly #groupExpiry: number;
  readonly #now: () => number;
  readonly #logger: Logger | undefined;
  readonly #warnFull: ReturnType<typeof throttledWarning>;
  /** This process's inbox keys, one per `newChannel()` prefix (`specific.<id>!` and any other). */
  readonly #inboxes = new Set<string>();
  #lastScore = 0;
  #receiver: BackplaneReceiver | null = null;
  /** Messages for this process's channels dropped because the local channel was full. */
  droppedFull = 0;

  constructor(options: ChannelsRedisBackplaneOptions = {}) {
    this.#prefix = options.prefix ?? "asgi";
    this.#expiry = options.expiry ?? LAYER_DEFAULTS.expiry;
    this.#groupExpiry = options.groupExpiry ?? LAYER_DEFAULTS.groupExpiry;
    const keys = options.encryptionKeys ?? [];
    this.#wire = { fernet: keys.length > 0 ? new Fernet(keys) : null, expirySeconds: this.#expiry };
    this.#capacityOf = capacityLookup(options);
    this.#now = options.now ?? Date.now;
    this.#logger = options.logger;
    this.#warnFull = throttledWarning(options.logger);
    this.#redis = new RedisConnections({
      url: options.url ?? "redis://127.0.0.1:6379",
      connectTimeoutMs: options.connectTimeoutMs ?? 5000,
      logger: options.logger,
      onMessage: () => {}, // no pub/sub in this format
    });
    this.channelCreated("specific");
  }

  get status(): LayerStatus {
    return this.#redis.status;
  }

  onStatus(listener: (status: LayerStatus) => void): () => void {
    return this.#redis.onStatus(listener);
  }

  start(receiver: BackplaneReceiver): void {
    this.#receiver = receiver;
    void drainInboxes(
      this.#redis,
      () => [...this.#inboxes],
      (popped) => this.#takeIn(popped),
    );
  }

  /** The layer made a channel name with `prefix`: read the inbox those names share. */
  channelCreated(prefix: string): void {
    this.#inboxes.add(`${this.#prefix}${prefix}.${this.processId}!`);
  }

  // Memberships are stored (keepsMemberships): the layer never subscribes.
  async subscribe(): Promise<void> {}
  async unsubscribe(): Promise<void> {}

  /**
   * Reads the members, then queues one message per destination set: two round trips on one
   * connection. A sender that awaits each groupSend keeps its order; two sends in flight at once
   * to one group are ordered by their scores (send times), taken when each queues.
   */
  async groupSend(group: string, message: Message): Promise<void> {
    assertNoDestination(message);
    const members = (await this.#redis.call(() =>
      groupMembersScript.run(
        this.#redis.command,
        [this.#groupKey(group)],
        [this.#pruneBound(this.#groupExpiry)],
      ),
    )) as string[];
    if (members.length === 0) return;
    const byKey = new Map<string, string[]>();
    for (const channel of members) {
      const key = this.#channelKey(channel);
      const sharing = byKey.get(key);
      if (sharing) sharing.push(channel);
      else byKey.set(key, [channel]);
    }
    const keys = [...byKey.keys()];
    const stored = keys.map((key) => serialize(this.#wire, message, byKey.get(key)!));
    // channels_redis takes a shared set's capacity from the first of its channels.
    const capacities = keys.map((key) => this.#capacityOf(byKey.get(key)![0]!));
    const args = [...stored, ...capacities, this.#nextScore(), this.#expiry, this.#pruneBound(this.#expiry)];
    const full = await this.#redis.call(() => groupSendScript.run(this.#redis.command, keys, args));
    if (typeof full === "number" && full > 0) {
      this.#warnFull((times) => `groupSend: full member(s) skipped ${times} time(s), e.g. in ${group}`, {
        group,
      });
    }
  }

  async groupAdd(group: string, channel: string): Promise<void> {
    const key = this.#groupKey(group);
    // A script, not MULTI: ioredis writes a MULTI at once, ahead of the group sends it still holds
    // in its auto-pipeline, and a join would overtake them.
    await this.#redis.call(() =>
      groupAddScript.run(this.#redis.command, [key], [channel, this.#nextScore(), this.#groupExpiry * 1000]),
    );
  }

  async groupDiscard(group: string, channel: string): Promise<void> {
    await this.#redis.call(() => this.#redis.command.zrem(this.#groupKey(group), channel));
  }

  async send(channel: string, message: Message): Promise<void> {
    assertNoDestination(message);
    // Only a process channel names itself in the message: its set is shared by the process's channels.
    const stored = serialize(this.#wire, message, channel.includes("!") ? channel : []);
    const capacity = this.#capacityOf(channel);
    const args = [stored, this.#nextScore(), capacity, this.#expiry, this.#pruneBound(this.#expiry)];
    const queued = await this.#redis.call(() =>
      sendScript.run(this.#redis.command, [this.#channelKey(channel)], args),
    );
    if (queued === 0) throw new ChannelFull(channel, capacity);
  }

  receive(channel: string, signal?: AbortSignal): Promise<Message> {
    return receiveFromSortedSet(
      this.#redis,
      this.#channelKey(channel),
      { accept: (popped) => this.#read(popped)?.message ?? null, expirySeconds: this.#expiry },
      signal,
    );
  }

  /** Deletes every key under the prefix, as channels_redis's `flush()` does. */
  async flush(): Promise<void> {
    let cursor = "0";
    do {
      const [next, keys] = await this.#redis.call(() =>
        this.#redis.command.scan(cursor, "MATCH", `${this.#prefix}*`, "COUNT", 500),
      );
      if (keys.length > 0) await this.#redis.call(() => this.#redis.command.unlink(...keys));
      cursor = next;
    } while (cursor !== "0");
  }

  queued(channel: string): Promise<number> {
    return this.#redis.call(() => this.#redis.command.zcard(this.#channelKey(channel)));
  }

  acquireLease(name: string, holder: string, ttlMs: number): Promise<boolean> {
    return acquireLease(this.#redis, `${this.#prefix}:lease:${name}`, holder, ttlMs);
  }

  releaseLease(name: string, holder: string): Promise<void> {
    return releaseLease(this.#redis, `${this.#prefix}:lease:${name}`, holder);
  }

  async close(): Promise<void> {
    this.#redis.close();
  }

  /** The channels of `group` stored in Redis, this process's included. */
  storedMembers(group: string): Promise<string[]> {
    return this.#redis.call(() =>
      this.#redis.command.zrangebyscore(this.#groupKey(group), this.#pruneBound(this.#groupExpiry), "+inf"),
    );
  }

  // --- internals ---------------------------------------------------------------------------------

  /** Where a channel's messages wait: a process channel's part up to `!`, as channels_redis keys it. */
  #channelKey(channel: string): string {
    const bang = channel.indexOf("!");
    return this.#prefix + (bang === -1 ? channel : channel.slice(0, bang + 1));
  }

  #groupKey(group: string): string {
    return `${this.#prefix}:group:${group}`;
  }

  /**
   * A send time in float seconds that never repeats or goes back in this process: two messages in
   * one millisecond must not swap places in a set ordered by score.
   */
  #nextScore(): number {
    this.#lastScore = Math.max(this.#now() / 1000, this.#lastScore + 0.000001);
    return this.#lastScore;
  }

  /** Entries scored at or below this are older than `seconds` (whole seconds, as Python prunes). */
  #pruneBound(seconds: number): number {
    return Math.floor(this.#now() / 1000) - seconds;
  }

  /** The message in a popped member, or null if it expired or cannot be read (logged). */
  #read(popped: Popped): { message: Message; channels: string[] } | null {
    if (popped.score < this.#now() / 1000 - this.#expiry) return null;
    try {
      return deserialize(this.#wire, popped.stored);
    } catch (error) {
      this.#logger?.error("channels_redis layer: unreadable message", { error });
      return null;
    }
  }

  /** Hands a message from this process's inbox to each local channel it names. */
  #takeIn(popped: Popped): void {
    const read = this.#read(popped);
    if (!read) return;
    // One decoded message for every local channel it names: each recipient copies it when its turn comes.
    for (const channel of read.channels) {
      if (this.#receiver?.channel(channel, read.message)) continue;
      this.droppedFull++;
      this.#warnFull((times) => `channels_redis layer: ${times} message(s) for full local channels dropped`, {
        channel,
      });
    }
  }
}
