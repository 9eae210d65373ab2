/**
 * What the two pub/sub Redis backplanes share, one Redis (`redis.ts`) and a cluster
 * (`redis-cluster.ts`): plain channels and process inboxes as lists of
 * `<expires>:<channel>:<payload>` entries (redis-entries.ts), group subscriptions through pub/sub,
 * memberships of channels no hub holds as sorted sets, and task leases. A subclass says how keys
 * are named and how a group message goes out.
 */
import { ChannelFull } from "../../errors.ts";
import { type Logger, throttledWarning } from "../../log.ts";
import {
  LAYER_DEFAULTS,
  type LayerOptions,
  type LayerStatus,
  type Message,
  type StatusReporting,
} from "../layer.ts";
import { capacityLookup, processOf } from "../rules.ts";
import type { Backplane, BackplaneReceiver } from "./backplane.ts";
import { decodeEntry, encodeEntry, fromWire, toWire } from "./redis-entries.ts";
import { drainInbox, type QueueConnections, receiveFromList } from "./redis-queues.ts";
import { acquireLease, releaseLease, sendScript } from "./redis-scripts.ts";

/**
 * Messages a process's inbox (every channel of its consumers, sent from other processes) may
 * hold. Per-channel capacity is applied when the process takes them in; this only bounds Redis
 * memory if a process stops draining. Past it, `send` throws `ChannelFull`.
 */
export const INBOX_CAPACITY = 10_000;

/** What these backplanes need of their connections. */
export interface ListConnections extends QueueConnections, StatusReporting {
  readonly subscriptions: number;
  subscribe(channel: string): Promise<void>;
  unsubscribe(channel: string): Promise<void>;
  close(): void;
}

/** The kinds of key: plain channel list, process inbox, group set, group pub/sub channel, lease. */
export type KeyKind = "ch" | "inbox" | "group" | "gpub" | "lease";

/** Options both backplanes take. */
export interface ListBackplaneOptions extends LayerOptions {
  /** Prefix of every key and pub/sub channel, so several apps can share one Redis. Default `hc`. */
  prefix?: string;
  /** Milliseconds since the epoch; tests pass a fake clock for expiry. */
  now?: () => number;
  logger?: Logger;
}

/** The shared body of the Redis and Redis Cluster backplanes. */
export abstract class ListBackplane<C extends ListConnections> implements Backplane {
  readonly processId = crypto.randomUUID().replaceAll("-", "").slice(0, 12);
  protected readonly redis: C;
  protected readonly prefix: string;
  protected readonly capacityOf: (channel: string) => number;
  protected readonly expiryMs: number;
  protected readonly groupExpiryMs: number;
  protected readonly now: () => number;
  protected readonly logger: Logger | undefined;
  /** One line a second at most for full channels: a burst must not flood the log. */
  protected readonly warnFull: ReturnType<typeof throttledWarning>;
  /** What log lines call this layer: "redis layer", "redis cluster layer". */
  readonly #label: string;
  #receiver: BackplaneReceiver | null = null;
  /** Messages for this process's channels dropped because the local channel was full. */
  droppedFull = 0;

  /** `connect` makes the connections, handing pub/sub messages to the callback it is given. */
  constructor(
    options: ListBackplaneOptions,
    label: string,
    connect: (onMessage: (channel: string, payload: string) => void) => C,
  ) {
    this.prefix = options.prefix ?? "hc";
    this.capacityOf = capacityLookup(options);
    this.expiryMs = (options.expiry ?? LAYER_DEFAULTS.expiry) * 1000;
    this.groupExpiryMs = (options.groupExpiry ?? LAYER_DEFAULTS.groupExpiry) * 1000;
    this.now = options.now ?? Date.now;
    this.logger = options.logger;
    this.warnFull = throttledWarning(options.logger);
    this.#label = label;
    this.redis = connect((channel, payload) => this.#onGroupMessage(channel, payload));
  }

  /**
   * Stores `channel` in the group set at `key` and renews the set's expiry, in one step. MULTI here,
   * on a connection that writes each command as it is made; a backplane whose connection
   * auto-pipelines (the single Redis) uses a script instead (see `groupAddScript`).
   */
  protected addMembership(key: string, channel: string): Promise<unknown> {
    return this.redis.command.multi().zadd(key, this.now(), channel).pexpire(key, this.groupExpiryMs).exec();
  }

  /** The key (or pub/sub channel) of `name` of this `kind`. */
  protected abstract key(kind: KeyKind, name: string): string;
  /** The group a pub/sub channel from `key("gpub", group)` is for; null if it is not one. */
  protected abstract groupOf(pubsubChannel: string): string | null;
  abstract groupSend(group: string, message: Message): Promise<void>;
  abstract flush(): Promise<void>;
  /**
   * Called before every command the layer makes on the command connection: a backplane that holds
   * group messages back to send them together sends them now, so commands reach Redis in call order.
   */
  protected beforeCommand(): void {}
  /** Called by `close()` before the connections go: a backplane that holds messages back sends them. */
  protected async beforeClose(): Promise<void> {}

  get status(): LayerStatus {
    return this.redis.status;
  }

  onStatus(listener: (status: LayerStatus) => void): () => void {
    return this.redis.onStatus(listener);
  }

  get subscriptions(): number {
    return this.redis.subscriptions;
  }

  start(receiver: BackplaneReceiver): void {
    this.#receiver = receiver;
    void drainInbox(this.redis, this.key("inbox", this.processId), (entry) => this.#takeIn(entry));
  }

  subscribe(group: string): Promise<void> {
    return this.redis.subscribe(this.key("gpub", group));
  }

  unsubscribe(group: string): Promise<void> {
    return this.redis.unsubscribe(this.key("gpub", group));
  }

  async groupAdd(group: string, channel: string): Promise<void> {
    const key = this.key("group", group);
    this.beforeCommand();
    await this.redis.call(() => this.addMembership(key, channel));
  }

  async groupDiscard(group: string, channel: string): Promise<void> {
    this.beforeCommand();
    await this.redis.call(() => this.redis.command.zrem(this.key("group", group), channel));
  }

  async send(channel: string, message: Message): Promise<void> {
    if (!(await this.queue(channel, toWire(message), this.now()))) {
      throw new ChannelFull(channel, processOf(channel) ? INBOX_CAPACITY : this.capacityOf(channel));
    }
  }

  receive(channel: string, signal?: AbortSignal): Promise<Message> {
    const timing = { expiryMs: this.expiryMs, now: this.now };
    return receiveFromList(this.redis, this.key("ch", channel), timing, signal);
  }

  queued(channel: string): Promise<number> {
    this.beforeCommand();
    return this.redis.call(() => this.redis.command.llen(this.key("ch", channel)));
  }

  acquireLease(name: string, holder: string, ttlMs: number): Promise<boolean> {
    this.beforeCommand();
    return acquireLease(this.redis, this.key("lease", name), holder, ttlMs);
  }

  releaseLease(name: string, holder: string): Promise<void> {
    this.beforeCommand();
    return releaseLease(this.redis, this.key("lease", name), holder);
  }

  async close(): Promise<void> {
    await this.beforeClose();
    this.redis.close();
  }

  /** The channels of `group` stored in Redis (for tests and inspection). */
  storedMembers(group: string): Promise<string[]> {
    const since = this.now() - this.groupExpiryMs;
    this.beforeCommand();
    return this.redis.call(() => this.redis.command.zrangebyscore(this.key("group", group), since, "+inf"));
  }

  /**
   * Queues `payload` for `channel`: a plain channel on its own list, another process's on that
   * process's inbox, which has its own bound (the owner applies the channel's capacity). False if full.
   */
  protected async queue(channel: string, payload: string, now: number): Promise<boolean> {
    const owner = processOf(channel);
    const key = owner ? this.key("inbox", owner) : this.key("ch", channel);
    const capacity = owner ? INBOX_CAPACITY : this.capacityOf(channel);
    const entry = encodeEntry(now + this.expiryMs, channel, payload);
    this.beforeCommand();
    const queued = await this.redis.call(() =>
      sendScript.run(this.redis.command, [key], [entry, capacity, now, this.expiryMs]),
    );
    return queued !== 0;
  }

  /**
   * Group messages published by any process: hand them to this process's members. One pub/sub
   * message may carry several, each followed by a newline (a run of sends to one group, see
   * `groupSendScript`); one that cannot be read is logged and the others still go.
   */
  #onGroupMessage(channel: string, published: string): void {
    const group = this.groupOf(channel);
    if (group === null) return;
    // At least once: an empty message is an unreadable payload too.
    let at = 0;
    do {
      let end = published.indexOf("\n", at);
      if (end === -1) end = published.length;
      this.#onePayload(group, published.slice(at, end));
      at = end + 1;
    } while (at < published.length);
  }

  #onePayload(group: string, payload: string): void {
    let message: Message;
    try {
      message = fromWire(payload);
    } catch (error) {
      this.logger?.error(`${this.#label}: unreadable group message on ${group}`, { error });
      return;
    }
    // Decoded once for every local member; each gets its own copy when its turn comes.
    this.#receiver?.group(group, message);
  }

  /** Hands one inbox entry to its local channel, which applies its own capacity. */
  #takeIn(text: string): void {
    let entry: ReturnType<typeof decodeEntry>;
    try {
      entry = decodeEntry(text);
    } catch (error) {
      this.logger?.error(`${this.#label}: unreadable inbox entry`, { error });
      return;
    }
    if (entry.expiresAt <= this.now()) return;
    if (!this.#receiver?.channel(entry.channel, entry.message)) {
      // The sender could not be told: count it, as groupSend counts full members.
      this.droppedFull++;
      this.warnFull(
        (times) =>
          `${this.#label}: ${times} message(s) for full local channels dropped, e.g. ${entry.channel}`,
        { channel: entry.channel },
      );
    }
  }
}
