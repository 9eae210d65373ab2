/**
 * `InMemoryChannelLayer`: the default layer, for one process. It is the hub alone: delivery to a
 * consumer of this process is a direct push into its queue; `receive()` is for workers and tests.
 */

import { DeliveryLayer } from "./delivery.ts";
import type { HubOptions } from "./hub.ts";
import type { MessageMap } from "./layer.ts";

/** Options of the in-memory layer: capacity, expiry, an injectable clock and a logger. */
export type MemoryLayerOptions = HubOptions;

/** A channel layer held in this process's memory. */
export class InMemoryChannelLayer<M extends MessageMap = MessageMap> extends DeliveryLayer<M> {
  constructor(options: MemoryLayerOptions = {}) {
    super(options, null);
  }

  /** The channels currently in `group` (for tests and the communicator). */
  groupChannels(group: string): string[] {
    return this.hub.groupChannels(group);
  }

  /** How much the layer holds: for leak checks. */
  get size(): { channels: number; groups: number; memberships: number } {
    return this.hub.size;
  }
}
