/**
 * Building blocks for integrators: run the server your own way, write a backplane or a runtime
 * adapter. Route and consumer files need none of this (they import `src/index.ts`).
 */

// Runtime adapters
export type { Runtime, ServeOptions, Server, SocketEvents } from "./adapters/runtime.ts";
export {
  type Background,
  resolveTasks,
  resolveWorkers,
  startBackground,
} from "./background/background.ts";
export { type Clock, systemClock } from "./background/clock.ts";
export { type Leases, localLeases } from "./background/lease.ts";
// Connections
export { ConnectionSet } from "./consumer/connections.ts";
export type { Connection } from "./consumer/consumer.ts";
// Channel layers: the hub, backplanes, capabilities, the wire encoding
export type { Backplane, BackplaneReceiver } from "./layers/backplanes/backplane.ts";
export { decodeMessage, encodeMessage } from "./layers/codec.ts";
export { createChannelLayer, setChannelLayer } from "./layers/default.ts";
export { DeliveryLayer } from "./layers/delivery.ts";
export { Hub, type HubOptions } from "./layers/hub.ts";
export {
  type ChannelSink,
  canListen,
  type LocalDelivery,
  reportsStatus,
  type StatusReporting,
  waitUntilUp,
} from "./layers/layer.ts";
// Routing
export type { Manifest, ManifestEntry } from "./routing/manifest.ts";
export { scanBackground, scanLifecycle, scanProject } from "./routing/scan.ts";
export { formatRouteTable } from "./routing/table.ts";
export { getRuntime } from "./serve.ts";
// Settings
export { loadSettings } from "./settings.ts";
