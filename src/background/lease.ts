/**
 * Leases: who among the processes sharing a layer runs a periodic task. A layer that crosses
 * processes (Redis) holds them in its backend; a layer of one process needs none.
 */
import type { ChannelLayer } from "../layers/layer.ts";
import type { Logger } from "../log.ts";

/** Takes, renews and gives back named leases. */
export interface Leases {
  /** True if `holder` holds `name` for the next `ttlMs` (taken now, or renewed); false if another does. */
  acquire(name: string, holder: string, ttlMs: number): Promise<boolean>;
  /** Gives `name` back if `holder` holds it. */
  release(name: string, holder: string): Promise<void>;
}

/** A layer whose processes can agree on one lease holder. */
export interface LeaseHolding {
  leases: Leases | null;
}

/** In one process every lease is this process's. */
export const localLeases: Leases = {
  acquire: async () => true,
  release: async () => {},
};

/**
 * The leases of `layer`: its own if it has them (null for a layer of one process), else this
 * process's alone, with a warning, since every process would then run every task.
 */
export function leasesOf(layer: ChannelLayer, logger: Logger): Leases {
  if ("leases" in layer) return (layer as LeaseHolding).leases ?? localLeases;
  logger.warn(
    `${layer.constructor.name} cannot elect one process to run periodic tasks: each process runs them.`,
  );
  return localLeases;
}
