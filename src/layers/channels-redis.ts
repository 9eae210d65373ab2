/**
 * `ChannelsRedisLayer`: the channel layer that shares Redis with Django Channels
 * (`CHANNEL_LAYER=channels_redis`): this process's hub plus the channels_redis wire backplane.
 * Groups, process channels and worker channels are common to both sides; see the README's
 * "Running beside Django Channels".
 */
import { BackplaneLayer } from "./backplane-layer.ts";
import { ChannelsRedisBackplane, type ChannelsRedisBackplaneOptions } from "./backplanes/channels-redis.ts";
import type { MessageMap } from "./layer.ts";

/** Options of the channels_redis layer. */
export type ChannelsRedisLayerOptions = ChannelsRedisBackplaneOptions;

/** A channel layer on one Redis, in the format Django's channels_redis reads and writes. */
export class ChannelsRedisLayer<M extends MessageMap = MessageMap> extends BackplaneLayer<
  M,
  ChannelsRedisBackplane
> {
  constructor(options: ChannelsRedisLayerOptions = {}) {
    super(options, new ChannelsRedisBackplane(options));
  }

  /** The channels of `group`, all stored in Redis (Django's and this process's). */
  groupChannels(group: string): Promise<string[]> {
    return this.backplane.storedMembers(group);
  }
}
