/**
 * Hono Channels: Django Channels for Bun, Deno and Node. What route files, consumer files and
 * their tests import; re-exports only. The Redis layer has its own entry (`src/redis.ts`), so
 * importing this never loads ioredis; server plumbing is in `src/integration.ts`.
 */

export type { Client } from "./adapters/runtime.ts";
// App
export { type AppOptions, type ChannelsEnv, createApp } from "./app.ts";
export type { TaskContext } from "./background/task.ts";
export { Worker } from "./background/worker.ts";
// Consumers
export { Consumer, type ConsumerClass } from "./consumer/consumer.ts";
export { handlerName } from "./consumer/dispatch.ts";
export { type AcceptOptions, CloseCode, type CloseOptions, type Frame } from "./consumer/frames.ts";
export { JsonConsumer, type JsonErrorFrame } from "./consumer/json.ts";
export type { Scope, User } from "./consumer/scope.ts";
// Errors
export {
  ChannelFull,
  ChannelListenedError,
  ChannelsError,
  CommunicatorError,
  CommunicatorTimeout,
  ConnectionClosed,
  ConsumerStateError,
  DispatchError,
  type ErrorCode,
  InvalidJsonError,
  type InvalidJsonReason,
  InvalidMessageError,
  InvalidNameError,
  LayerClosedError,
  LayerNotReadyError,
  LayerOutcomeUnknownError,
  LayerUnavailableError,
  NotLocalError,
  RouteError,
  SettingsError,
} from "./errors.ts";
// Channel layers
export { getChannelLayer } from "./layers/default.ts";
export type {
  ChannelLayer,
  LayerOptions,
  LayerStatus,
  Message,
  MessageMap,
  MessageOf,
} from "./layers/layer.ts";
export { layerStatus } from "./layers/layer.ts";
export { InMemoryChannelLayer, type MemoryLayerOptions } from "./layers/memory.ts";
export { createLogger, type LogFormat, type Logger, type LogLevel } from "./log.ts";
// Background work: workers (consumers of named channels) and periodic tasks
export type { LifecycleHooks } from "./routing/scan.ts";
// Security
export {
  issueToken,
  type TokenAuthOptions,
  tokenAuth,
  type VerifyOptions,
  verifyToken,
} from "./security/auth.ts";
export { parseJson } from "./security/json-depth.ts";
export { DEFAULT_LIMITS, type Limits, type SlowClientPolicy } from "./security/limits.ts";
export { createOriginPolicy, type OriginPolicy } from "./security/origin.ts";
export { type ReadJsonOptions, readJson } from "./security/read-json.ts";
// Settings
export { getSettings, type Settings } from "./settings.ts";
// Testing
export {
  type CommunicatorOptions,
  type ConnectResult,
  WebsocketCommunicator,
} from "./testing/communicator.ts";
export {
  TestClient,
  type TestClientOptions,
  type TestConnectOptions,
  TestSocket,
} from "./testing/test-client.ts";
