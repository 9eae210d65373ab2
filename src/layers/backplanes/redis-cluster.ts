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
 *
 * What it shares with the one-Redis backplane (lists, inboxes, leases) is in list-backplane.ts.
 */
import { LayerUnavailableError } from "../../errors.ts";
import type { Message } from "../layer.ts";
import { type KeyKind, ListBackplane, type ListBackplaneOptions } from "./list-backplane.ts";
import { RedisClusterConnections } from "./redis-cluster-connections.ts";
import { clusterGroupSendScript, flushCluster, parseClusterNodes } from "./redis-cluster-scripts.ts";
import { toWire } from "./redis-entries.ts";

/** Options of the Redis Cluster backplane. */
export interface RedisClusterBackplaneOptions extends ListBackplaneOptions {
  /** Seed nodes, `host:port` each (an array, or comma-separated). Default `127.0.0.1:7000`. */
  nodes?: string | string[];
  /** How long calls made before the first connection wait for it (ms). Default 5000. */
  connectTimeoutMs?: number;
}

/** What crosses processes, through a Redis Cluster with sharded pub/sub. */
export class RedisClusterBackplane extends ListBackplane<RedisClusterConnections> {
  constructor(options: RedisClusterBackplaneOptions = {}) {
    // A brace in the prefix would become every key's hash tag: the whole app on one slot.
    if (/[{}]/.test(options.prefix ?? ""))
      throw new TypeError(`Redis prefix "${options.prefix}" must not hold { or }`);
    super(
      options,
      "redis cluster layer",
      (onMessage) =>
        new RedisClusterConnections({
          nodes: parseClusterNodes(options.nodes ?? "127.0.0.1:7000"),
          connectTimeoutMs: options.connectTimeoutMs ?? 5000,
          logger: options.logger,
          onMessage,
        }),
    );
  }

  async groupSend(group: string, message: Message): Promise<void> {
    const payload = toWire(message);
    const now = this.now();
    const members = (await this.redis.call(() =>
      clusterGroupSendScript.run(
        this.redis.command,
        [this.key("group", group)],
        [this.key("gpub", group), now, this.groupExpiryMs, payload],
      ),
    )) as string[];
    if (members.length === 0) return;
    // The group's own shard has published; each stored member's list may live on another shard.
    const queued = await Promise.all(
      members.map((channel) => this.queue(channel, payload, now).catch(() => false)),
    );
    if (queued.some((ok) => !ok)) {
      this.warnFull(
        (times) =>
          `groupSend: full or unreachable stored member(s) skipped ${times} time(s), e.g. in ${group}`,
        { group },
      );
    }
  }

  async flush(): Promise<void> {
    const failed = await this.redis.call(() => flushCluster(this.redis.command, `${this.prefix}:*`));
    if (failed.length > 0) {
      throw new LayerUnavailableError(new Error(`flush: shard(s) ${failed.join(", ")} did not answer`));
    }
  }

  /** Primaries that did not answer the last check (`host:port`), for status pages and tests. */
  get shardsAway(): string[] {
    return this.redis.away;
  }

  /** The hash tag is the name: one script's keys (a group and its shard channel) share a slot. */
  protected key(kind: KeyKind, name: string): string {
    return `${this.prefix}:${kind}:{${name}}`;
  }

  protected groupOf(pubsubChannel: string): string | null {
    const start = `${this.prefix}:gpub:{`;
    return pubsubChannel.startsWith(start) && pubsubChannel.endsWith("}")
      ? pubsubChannel.slice(start.length, -1)
      : null;
  }
}
