/**
 * `RedisChannelLayer`: the channel layer for many processes (`CHANNEL_LAYER=redis`): this
 * process's hub plus the Redis backplane. Import it from `src/redis.ts`, or let the server build
 * it from the settings; the public entry never loads ioredis.
 */
import { BackplaneLayer } from "./backplane-layer.ts";
import { RedisBackplane, type RedisBackplaneOptions } from "./backplanes/redis.ts";
import type { MessageMap } from "./layer.ts";

/** Options of the Redis layer. */
export type RedisLayerOptions = RedisBackplaneOptions;

/** A channel layer shared by every process connected to one Redis. */
export class RedisChannelLayer<M extends MessageMap = MessageMap> extends BackplaneLayer<M, RedisBackplane> {
  constructor(options: RedisLayerOptions = {}) {
    super(options, new RedisBackplane(options));
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
