/**
 * `ChannelsRedisLayer`: the channel layer that shares Redis with Django Channels
 * (`CHANNEL_LAYER=channels_redis`): this process's hub plus the channels_redis wire backplane.
 * Groups, process channels and worker channels are common to both sides; see the README's
 * "Running beside Django Channels".
 */
import { ChannelsRedisBackplane, type ChannelsRedisBackplaneOptions } from "./backplanes/channels-redis.ts";
import { DeliveryLayer } from "./delivery.ts";
import type { LayerStatus, MessageMap, StatusReporting } from "./layer.ts";

/** Options of the channels_redis layer. */
export type ChannelsRedisLayerOptions = ChannelsRedisBackplaneOptions;

/** A channel layer on one Redis, in the format Django's channels_redis reads and writes. */
export class ChannelsRedisLayer<M extends MessageMap = MessageMap>
  extends DeliveryLayer<M>
  implements StatusReporting
{
  readonly #backplane: ChannelsRedisBackplane;

  constructor(options: ChannelsRedisLayerOptions = {}) {
    const backplane = new ChannelsRedisBackplane(options);
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

  /** The channels of `group`, all stored in Redis (Django's and this process's). */
  groupChannels(group: string): Promise<string[]> {
    return this.#backplane.storedMembers(group);
  }
}
