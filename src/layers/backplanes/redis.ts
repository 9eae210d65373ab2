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
 *
 * What it shares with the cluster backplane (lists, inboxes, leases) is in list-backplane.ts.
 */
import { LAYER_DEFAULTS, type Message } from "../layer.ts";
import { INBOX_CAPACITY, type KeyKind, ListBackplane, type ListBackplaneOptions } from "./list-backplane.ts";
import { RedisConnections } from "./redis-connections.ts";
import { toWire } from "./redis-entries.ts";
import { globToLuaPattern, groupSendScript } from "./redis-scripts.ts";

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
    const payload = toWire(message);
    const now = this.now();
    const skipped = await this.redis.call(() =>
      groupSendScript.run(
        this.redis.command,
        [this.key("group", group)],
        [
          this.key("gpub", group),
          now,
          this.groupExpiryMs,
          payload,
          now + this.expiryMs,
          this.#capacity,
          this.expiryMs,
          this.prefix,
          INBOX_CAPACITY,
          ...this.#capacityRules,
        ],
      ),
    );
    if (typeof skipped === "number" && skipped > 0) {
      this.warnFull(
        (times) => `groupSend: full stored member(s) skipped ${times} time(s), e.g. in ${group}`,
        {
          group,
        },
      );
    }
  }

  async flush(): Promise<void> {
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
    const start = this.key("gpub", "");
    return pubsubChannel.startsWith(start) ? pubsubChannel.slice(start.length) : null;
  }
}
