/**
 * `BackplaneLayer`: a `DeliveryLayer` whose backplane reports its connection. What every layer
 * over a network backend adds to the delivery core: the backend's status, and the count of
 * messages it had to drop for full local channels. `RedisChannelLayer` and `ChannelsRedisLayer`
 * are this with their backplane.
 */
import type { Backplane } from "./backplanes/backplane.ts";
import { DeliveryLayer } from "./delivery.ts";
import type { HubOptions } from "./hub.ts";
import type { LayerStatus, MessageMap, StatusReporting } from "./layer.ts";

/** A backplane that counts what it dropped because the local channel was full. */
export interface CountingBackplane extends Backplane {
  readonly droppedFull: number;
}

/** A channel layer over a backplane that may be up or down. */
export class BackplaneLayer<M extends MessageMap, B extends CountingBackplane>
  extends DeliveryLayer<M>
  implements StatusReporting
{
  protected readonly backplane: B;

  constructor(options: HubOptions, backplane: B) {
    super(options, backplane);
    this.backplane = backplane;
  }

  /** `connecting` until the backend first answers, then `up` or `down`. */
  get status(): LayerStatus {
    return this.backplane.status;
  }

  /** Calls `listener` whenever the connection to the backend goes up or down; returns the way to stop. */
  onStatus(listener: (status: LayerStatus) => void): () => void {
    return this.backplane.onStatus(listener);
  }

  /** Messages for this process's channels dropped because the local channel was full. */
  get droppedFull(): number {
    return this.backplane.droppedFull;
  }
}
