/**
 * The Redis backplane (`CHANNEL_LAYER=redis`).
 *
 * - A group with members in this process is a pub/sub subscription: `groupSend` publishes the
 *   message once (its wire form, redis-entries.ts), and each subscribed process fans out to its
 *   members. Members stored in Redis (plain channels, or another process's channels added from
 *   here) get the message queued by the same Lua script, which takes all the group messages of a
 *   turn in one call (group-send-batch.ts).
 * - `send` to a plain channel queues on its Redis list (workers `receive()` it); to another
 *   process's channel, on that process's inbox list, which the process drains in batches.
 * - Redis down: calls reject with `LayerUnavailableError`, the connections reconnect with backoff,
 *   re-subscribe, and report the status.
 *
 * What it shares with the cluster backplane (lists, inboxes, leases) is in list-backplane.ts.
 */
import { LayerUnavailableError } from "../../errors.ts";
import { LAYER_DEFAULTS, type Message } from "../layer.ts";
import { assertGroupName } from "../rules.ts";
import { GroupSendBatcher, type GroupSendEntry } from "./group-send-batch.ts";
import { INBOX_CAPACITY, type KeyKind, ListBackplane, type ListBackplaneOptions } from "./list-backplane.ts";
import { COMMAND_TIMEOUT_MS, RedisConnections } from "./redis-connections.ts";
import { toWire } from "./redis-entries.ts";
import { globToLuaPattern, groupAddScript, groupSendScript } from "./redis-scripts.ts";

export { INBOX_CAPACITY };

/** Options of the Redis backplane. */
export interface RedisBackplaneOptions extends ListBackplaneOptions {
  /** `redis://host:port/db`. Default `redis://127.0.0.1:6379`. */
  url?: string;
  /** How long calls made before the first connection wait for it (ms). Default 5000. */
  connectTimeoutMs?: number;
}

/** What crosses processes, through one Redis. */
export class RedisBackplane extends ListBackplane<RedisConnections> {
  readonly #capacity: number;
  /** `channelCapacity` as (Lua pattern, capacity) pairs, for the group script. */
  readonly #capacityRules: Array<string | number>;
  readonly #batcher = new GroupSendBatcher((entries) => this.#sendBatch(entries));

  /** What every group's pub/sub channel name starts with (`groupOf` is asked for each message). */
  readonly #groupChannelHead = this.key("gpub", "");

  constructor(options: RedisBackplaneOptions = {}) {
    super(
      options,
      "redis layer",
      (onMessage) =>
        new RedisConnections({
          url: options.url ?? "redis://127.0.0.1:6379",
          connectTimeoutMs: options.connectTimeoutMs ?? 5000,
          logger: options.logger,
          onMessage,
        }),
    );
    this.#capacity = options.capacity ?? LAYER_DEFAULTS.capacity;
    this.#capacityRules = Object.entries(options.channelCapacity ?? {}).flatMap(([glob, capacity]) => [
      globToLuaPattern(glob),
      capacity,
    ]);
  }

  async groupSend(group: string, message: Message): Promise<void> {
    // The layer checked it already; checked here too because a batch separates groups with a
    // newline, and a bad name used on the backplane directly must fail alone, not its batch.
    assertGroupName(group);
    const entry: GroupSendEntry = { group, payload: toWire(message), error: null };
    await this.#batcher.add(entry);
    if (entry.error) throw entry.error;
  }

  /** A script, not MULTI: ioredis writes a MULTI at once, ahead of its auto-pipeline. */
  protected override addMembership(key: string, channel: string): Promise<unknown> {
    return groupAddScript.run(this.redis.command, [key], [channel, this.now(), this.groupExpiryMs]);
  }

  /** A command sent after group messages must reach Redis after them: they go first. */
  protected override beforeCommand(): void {
    this.#batcher.flush();
  }

  /** Group messages sent before `close()` are carried first (bounded by the command timeout). */
  protected override async beforeClose(): Promise<void> {
    await this.#batcher.settle(COMMAND_TIMEOUT_MS);
  }

  /** One script call for a turn's group messages (group-send-batch.ts). */
  async #sendBatch(entries: GroupSendEntry[]): Promise<void> {
    const now = this.now();
    let batch = "";
    for (const entry of entries) batch += `${entry.group}\n${entry.payload}\n`;
    const args: Array<string | number> = [
      now,
      this.groupExpiryMs,
      now + this.expiryMs,
      this.#capacity,
      this.expiryMs,
      this.prefix,
      INBOX_CAPACITY,
      this.#capacityRules.length / 2,
      ...this.#capacityRules,
      batch,
    ];
    const notes = await this.redis.call(() => groupSendScript.run(this.redis.command, [], args));
    if (!Array.isArray(notes)) return;
    for (let i = 0; i < notes.length; i += 2) {
      const entry = entries[Number(notes[i]) - 1];
      if (!entry) continue;
      const note: unknown = notes[i + 1];
      if (typeof note === "string") {
        // Redis refused this message alone (a key of another type under our prefix, say).
        entry.error = new LayerUnavailableError(new Error(note));
        continue;
      }
      const group = entry.group;
      this.warnFull(
        (times) => `groupSend: full stored member(s) skipped ${times} time(s), e.g. in ${group}`,
        { group },
      );
    }
  }

  async flush(): Promise<void> {
    this.beforeCommand();
    let cursor = "0";
    do {
      const [next, keys] = await this.redis.call(() =>
        this.redis.command.scan(cursor, "MATCH", `${this.prefix}:*`, "COUNT", 500),
      );
      if (keys.length > 0) await this.redis.call(() => this.redis.command.unlink(...keys));
      cursor = next;
    } while (cursor !== "0");
  }

  protected key(kind: KeyKind, name: string): string {
    return `${this.prefix}:${kind}:${name}`;
  }

  protected groupOf(pubsubChannel: string): string | null {
    const start = this.#groupChannelHead;
    return pubsubChannel.startsWith(start) ? pubsubChannel.slice(start.length) : null;
  }
}
