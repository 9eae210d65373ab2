/**
 * Per-connection and per-process limits, with safe defaults. The runner enforces them for every
 * runtime; adapters also hand the frame limit to the runtime so oversized frames are refused
 * before they are buffered whole.
 */

/** What happens to a client that does not read what it is sent. */
export type SlowClientPolicy = "close" | "drop";

/** The limits a server applies to its WebSocket connections. */
export interface Limits {
  /** Largest frame a client may send, in bytes; larger ones close the socket with 1009. */
  maxFrameBytes: number;
  /** Bytes queued for one client beyond which the slow-client policy applies. */
  maxBufferedBytes: number;
  /** `close`: close with 1013 and send nothing more; `drop`: skip frames until the client catches up. */
  slowClientPolicy: SlowClientPolicy;
  /** Bytes of client frames received but not yet handled (a slow handler); over it: 1008. */
  maxPendingBytes: number;
  /** Frames per second one client may send (burst of the same size); 0 = no limit. Over it: 1008. */
  maxMessagesPerSecond: number;
  /** Open connections per process; 0 = no limit. Over it, upgrades answer 503. */
  maxConnections: number;
  /** Largest HTTP request body a view can read, in bytes; larger ones answer 413. */
  maxBodyBytes: number;
}

/** Defaults: 1 MiB frames, 4 MiB of backlog each way per client, no rate or connection cap. */
export const DEFAULT_LIMITS: Limits = {
  maxFrameBytes: 1024 * 1024,
  maxBufferedBytes: 4 * 1024 * 1024,
  slowClientPolicy: "close",
  maxPendingBytes: 4 * 1024 * 1024,
  maxMessagesPerSecond: 0,
  maxConnections: 0,
  maxBodyBytes: 1024 * 1024,
};

const encoder = new TextEncoder();

/** Size of a frame in bytes, computing UTF-8 length only when a string could be over `limit`. */
export function frameBytes(data: string | Uint8Array, limit: number): number {
  if (typeof data !== "string") return data.byteLength;
  // A UTF-16 code unit is at most 3 UTF-8 bytes: short strings need no encoding to be judged.
  if (data.length * 3 <= limit) return data.length;
  return encoder.encode(data).byteLength;
}

/** A token bucket: `take()` is false once more than `perSecond` frames came within a second. */
export class RateLimiter {
  readonly #perSecond: number;
  #tokens: number;
  #last = performance.now();

  constructor(perSecond: number) {
    this.#perSecond = perSecond;
    this.#tokens = perSecond;
  }

  take(): boolean {
    const now = performance.now();
    this.#tokens = Math.min(this.#perSecond, this.#tokens + ((now - this.#last) / 1000) * this.#perSecond);
    this.#last = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}
