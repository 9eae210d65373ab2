/**
 * The process-wide channel layer: what `getChannelLayer()` returns in HTTP views, background code
 * and tests. `src/main.ts` installs the one the settings ask for; otherwise an in-memory layer is
 * created on first use.
 */

import type { Logger } from "../log.ts";
import type { Settings } from "../settings.ts";
import type { ChannelLayer, MessageMap } from "./layer.ts";
import { InMemoryChannelLayer } from "./memory.ts";
import { RedisChannelLayer } from "./redis.ts";

let current: ChannelLayer | null = null;

/**
 * The layer this process uses. `M` types what `send` / `groupSend` accept.
 * @example
 * await getChannelLayer<ChatEvents>().groupSend("chat.lobby", { type: "chat.message", user: "server", text: "hi" });
 */
export function getChannelLayer<M extends MessageMap = MessageMap>(): ChannelLayer<M> {
  current ??= new InMemoryChannelLayer();
  return current as unknown as ChannelLayer<M>; // one layer, typed per caller
}

/** Replaces the process-wide layer (the server does this at startup; tests may too). */
export function setChannelLayer(layer: ChannelLayer): void {
  current = layer;
}

/** Builds the layer the settings describe. */
export function createChannelLayer(
  settings: Pick<Settings, "channelLayer" | "layerOptions" | "redisUrl" | "redisPrefix">,
  logger?: Logger,
): ChannelLayer {
  switch (settings.channelLayer) {
    case "memory":
      return new InMemoryChannelLayer({ ...settings.layerOptions, logger });
    case "redis":
      return new RedisChannelLayer({
        ...settings.layerOptions,
        url: settings.redisUrl,
        prefix: settings.redisPrefix,
        logger,
      });
  }
}
