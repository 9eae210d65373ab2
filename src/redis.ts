/**
 * The Redis channel layer's own entry: import `RedisChannelLayer` from here in a script, a worker
 * or a test. The server loads it by itself when `CHANNEL_LAYER=redis` (or `redis-cluster`: import
 * `RedisClusterChannelLayer` from here too).
 */

export {
  ChannelsRedisBackplane,
  type ChannelsRedisBackplaneOptions,
} from "./layers/backplanes/channels-redis.ts";
export { INBOX_CAPACITY, RedisBackplane, type RedisBackplaneOptions } from "./layers/backplanes/redis.ts";
export {
  RedisClusterBackplane,
  type RedisClusterBackplaneOptions,
} from "./layers/backplanes/redis-cluster.ts";
export { ChannelsRedisLayer, type ChannelsRedisLayerOptions } from "./layers/channels-redis.ts";
export { RedisChannelLayer, type RedisLayerOptions } from "./layers/redis.ts";
export { RedisClusterChannelLayer, type RedisClusterLayerOptions } from "./layers/redis-cluster.ts";
