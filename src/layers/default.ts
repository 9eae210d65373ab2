/**
 * The process-wide channel layer: what `getChannelLayer()` returns in HTTP views, consumers,
 * background code and tests. The server installs the configured layer before it imports any route
 * or consumer file, so a module that takes the layer at import time gets the real one.
 */
import { LayerNotReadyError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { getSettings, type Settings } from "../settings.ts";
import type { ChannelLayer, MessageMap } from "./layer.ts";
import { InMemoryChannelLayer } from "./memory.ts";

let current: ChannelLayer | null = null;

/**
 * The layer this process uses. `M` types what `send` / `groupSend` accept. Outside the server (a
 * test, a script) with `CHANNEL_LAYER=memory`, an in-memory layer is made on first use; with any
 * other layer, install it first with `await setChannelLayer(await createChannelLayer())`.
 * @example
 * await getChannelLayer<ChatEvents>().groupSend("chat.lobby", { type: "chat.message", user: "server", text: "hi" });
 */
export function getChannelLayer<M extends MessageMap = MessageMap>(): ChannelLayer<M> {
  if (!current) {
    const settings = getSettings();
    if (settings.channelLayer !== "memory") {
      // A throwaway memory layer here would swallow every message without a word.
      throw new LayerNotReadyError(settings.channelLayer);
    }
    current = new InMemoryChannelLayer(settings.layerOptions);
  }
  return current as unknown as ChannelLayer<M>; // one layer, typed per caller
}

/** Replaces the process-wide layer (the server does this at startup; tests may too). */
export function setChannelLayer(layer: ChannelLayer): void {
  current = layer;
}

/** Builds the layer the settings describe. The Redis layers, and ioredis with them, load only here. */
export async function createChannelLayer(
  settings: Pick<
    Settings,
    "channelLayer" | "layerOptions" | "redisUrl" | "redisPrefix" | "channelEncryptionKeys"
  > &
    Partial<Pick<Settings, "redisClusterNodes">> = getSettings(),
  logger?: Logger,
): Promise<ChannelLayer> {
  switch (settings.channelLayer) {
    case "memory":
      return new InMemoryChannelLayer({ ...settings.layerOptions, logger });
    case "redis": {
      const { RedisChannelLayer } = await import("./redis.ts");
      return new RedisChannelLayer({
        ...settings.layerOptions,
        url: settings.redisUrl,
        prefix: settings.redisPrefix,
        logger,
      });
    }
    case "channels_redis": {
      const { ChannelsRedisLayer } = await import("./channels-redis.ts");
      return new ChannelsRedisLayer({
        ...settings.layerOptions,
        url: settings.redisUrl,
        prefix: settings.redisPrefix,
        encryptionKeys: settings.channelEncryptionKeys,
        logger,
      });
    }
    case "redis-cluster": {
      const { RedisClusterChannelLayer } = await import("./redis-cluster.ts");
      return new RedisClusterChannelLayer({
        ...settings.layerOptions,
        nodes: settings.redisClusterNodes ?? [],
        prefix: settings.redisPrefix,
        logger,
      });
    }
  }
}
