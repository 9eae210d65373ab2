/**
 * `RedisChannelLayer`: the channel layer for many processes (`CHANNEL_LAYER=redis`): this
 * process's hub plus the Redis backplane. Import it from `src/redis.ts`, or let the server build
 * it from the settings; the public entry never loads ioredis.
 */
import { RedisBackplane, type RedisBackplaneOptions } from "./backplanes/redis.ts";
import { DeliveryLayer } from "./delivery.ts";
import type { LayerStatus, MessageMap, StatusReporting } from "./layer.ts";

/** Options of the Redis layer. */
export type RedisLayerOptions = RedisBackplaneOptions;

/** A channel layer shared by every process connected to one Redis. */
export class RedisChannelLayer<M extends MessageMap = MessageMap>
  extends DeliveryLayer<M>
  implements StatusReporting
{
  readonly #backplane: RedisBackplane;

  constructor(options: RedisLayerOptions = {}) {
    const backplane = new RedisBackplane(options);
    super(options, backplane);
    this.#backplane = backplane;
  }

  /** `connecting` until Redis first answers, then `up` or `down`. */
  get status(): LayerStatus {
    return this.#backplane.status;
  }

  /** Calls `listener` whenever the connection to Redis goes up or down; returns the way to stop. */
  onStatus(listener: (status: LayerStatus) => void): () => void {
    return this.#backplane.onStatus(listener);
  }

  /** Messages for this process's channels dropped because the local channel was full. */
  get droppedFull(): number {
    return this.#backplane.droppedFull;
  }

  /** The channels of `group`, local and stored in Redis (for tests and inspection). */
  async groupChannels(group: string): Promise<string[]> {
    return [...this.hub.groupChannels(group), ...(await this.#backplane.storedMembers(group))];
  }

  /** What this process holds in memory: local channels and memberships, and group subscriptions. */
  get size(): { channels: number; groups: number; memberships: number; subscriptions: number } {
    return { ...this.hub.size, subscriptions: this.#backplane.subscriptions };
  }
}
