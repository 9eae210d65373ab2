/**
 * `RedisClusterChannelLayer`: the channel layer for many processes on a Redis Cluster
 * (`CHANNEL_LAYER=redis-cluster`): this process's hub plus the cluster backplane, with group
 * traffic spread over the shards by sharded pub/sub. Import it from `src/redis.ts`, or let the
 * server build it from the settings; the public entry never loads ioredis.
 */
import { BackplaneLayer } from "./backplane-layer.ts";
import { RedisClusterBackplane, type RedisClusterBackplaneOptions } from "./backplanes/redis-cluster.ts";
import type { MessageMap } from "./layer.ts";

/** Options of the Redis Cluster layer. */
export type RedisClusterLayerOptions = RedisClusterBackplaneOptions;

/**
 * A channel layer shared by every process connected to one Redis Cluster. `status` is `up` while
 * every primary answers, else `down`.
 */
export class RedisClusterChannelLayer<M extends MessageMap = MessageMap> extends BackplaneLayer<
  M,
  RedisClusterBackplane
> {
  constructor(options: RedisClusterLayerOptions = {}) {
    super(options, new RedisClusterBackplane(options));
  }

  /** Primaries (`host:port`) that did not answer the last once-a-second check. */
  get shardsAway(): string[] {
    return this.backplane.shardsAway;
  }

  /** The channels of `group`, local and stored in Redis (for tests and inspection). */
  async groupChannels(group: string): Promise<string[]> {
    return [...this.hub.groupChannels(group), ...(await this.backplane.storedMembers(group))];
  }

  /** What this process holds in memory: local channels and memberships, and group subscriptions. */
  get size(): { channels: number; groups: number; memberships: number; subscriptions: number } {
    return { ...this.hub.size, subscriptions: this.backplane.subscriptions };
  }
}
