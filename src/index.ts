/**
 * Hono Channels: Django Channels for Bun, Deno and Node. The public API; re-exports only.
 */

export type { Runtime, ServeOptions, Server } from "./adapters/runtime.ts";
// App and server
export { type AppOptions, type ChannelsEnv, createApp } from "./app.ts";
export { ConnectionSet } from "./consumer/connections.ts";
// Consumers
export { type Connection, Consumer, type ConsumerClass } from "./consumer/consumer.ts";
export { handlerName } from "./consumer/dispatch.ts";
export { JsonConsumer, type JsonErrorFrame } from "./consumer/json.ts";
export { type AcceptOptions, CloseCode, type CloseOptions, type Frame } from "./consumer/peer.ts";
export type { Client, Scope, User } from "./consumer/scope.ts";
// Errors
export {
  ChannelFull,
  ChannelsError,
  CommunicatorTimeout,
  ConnectionClosed,
  ConsumerStateError,
  DispatchError,
  InvalidMessageError,
  InvalidNameError,
  LayerClosedError,
  LayerUnavailableError,
  RouteError,
  SettingsError,
} from "./errors.ts";
// Channel layers
export { createChannelLayer, getChannelLayer, setChannelLayer } from "./layers/default.ts";
export type {
  ChannelLayer,
  ChannelSink,
  LayerOptions,
  Message,
  MessageMap,
  MessageOf,
} from "./layers/layer.ts";
export { InMemoryChannelLayer, type MemoryLayerOptions } from "./layers/memory.ts";
export { RedisChannelLayer, type RedisLayerOptions } from "./layers/redis.ts";
export { createLogger, type Logger, type LogLevel } from "./log.ts";
// Routing
export type { Manifest, ManifestEntry } from "./routing/manifest.ts";
export { scanProject } from "./routing/scan.ts";
// Security
export { issueToken, type TokenAuthOptions, tokenAuth, verifyToken } from "./security/auth.ts";
export { DEFAULT_LIMITS, type Limits, type SlowClientPolicy } from "./security/limits.ts";
export { createOriginPolicy, type OriginPolicy } from "./security/origin.ts";
export { getRuntime } from "./serve.ts";
export { loadSettings, type Settings } from "./settings.ts";
// Testing
export {
  type CommunicatorOptions,
  type ConnectResult,
  WebsocketCommunicator,
} from "./testing/communicator.ts";
