/**
 * Flow control for one connection: what the limits say about each frame in and out. It only
 * decides; the runner does the I/O and the closing, so this knows nothing of sockets or consumers.
 */
import { frameBytes, type Limits, RateLimiter } from "../security/limits.ts";
import { CloseCode } from "./frames.ts";

/** What to do with a frame from the client. */
export type Inbound =
  /** Queue it for the handler; report `bytes` to `taken()` when its turn comes. */
  | { action: "handle"; bytes: number }
  /** It broke a limit: close with this code and reason (once; later frames are `ignore`). */
  | { action: "refuse"; code: number; reason: string }
  /** The client was already refused: drop the frame. */
  | { action: "ignore" };

/** Judges client frames by size, rate, and how many bytes still wait for the handler. */
export class InboundGuard {
  readonly #limits: Limits;
  readonly #rate: RateLimiter | null;
  /** Bytes of frames admitted but not yet taken by the handler. */
  #pendingBytes = 0;
  #refused = false;

  constructor(limits: Limits) {
    this.#limits = limits;
    this.#rate = limits.maxMessagesPerSecond > 0 ? new RateLimiter(limits.maxMessagesPerSecond) : null;
  }

  /** Judges one frame as it arrives. */
  admit(data: string | Uint8Array): Inbound {
    if (this.#refused) return { action: "ignore" };
    const limits = this.#limits;
    const bytes = frameBytes(data, limits.maxFrameBytes);
    const refusal =
      bytes > limits.maxFrameBytes
        ? { code: CloseCode.messageTooBig, reason: "message too big" }
        : this.#rate && !this.#rate.take()
          ? { code: CloseCode.policyViolation, reason: "rate limit exceeded" }
          : this.#pendingBytes + bytes > limits.maxPendingBytes
            ? { code: CloseCode.policyViolation, reason: "too many unhandled frames" }
            : null;
    if (refusal) {
      // Neither the offending frame nor anything after it is kept: a client past a limit gets no
      // more of the server's memory, though the frames it sent before are still handled.
      this.#refused = true;
      return { action: "refuse", ...refusal };
    }
    this.#pendingBytes += bytes;
    return { action: "handle", bytes };
  }

  /** A frame `admit()` let through left the queue for its handler. */
  taken(bytes: number): void {
    this.#pendingBytes -= bytes;
  }
}

/** What to do with a frame for the client. */
export type Outbound =
  /** Write it to the socket now. */
  | "write"
  /** The socket is not open yet: the buffer kept it, for `drain()`. */
  | "hold"
  /** The client is behind (`drop` policy): skip this frame. */
  | "drop"
  /** The client is behind (`close` policy): close with 1013 and send nothing more. */
  | "close";

const NOTHING_HELD: ReadonlyArray<string | Uint8Array> = [];

/** Holds frames sent before the socket opened, and applies the slow-client policy. */
export class OutboundBuffer {
  readonly #limits: Limits;
  /** Made when the first frame is held: most sockets open before anything is sent. */
  #held: Array<string | Uint8Array> | null = null;
  #heldBytes = 0;
  /** Frames skipped for a slow client under the `drop` policy. */
  droppedFrames = 0;

  constructor(limits: Limits) {
    this.#limits = limits;
  }

  /** Decides a frame's fate; `socketBacklog` is the socket's `bufferedAmount`, or null before it opened. */
  offer(data: string | Uint8Array, socketBacklog: number | null): Outbound {
    // A client that does not read must not make the server hold its backlog in memory; before the
    // socket opens, what this buffer holds is that backlog.
    if ((socketBacklog ?? this.#heldBytes) > this.#limits.maxBufferedBytes) {
      if (this.#limits.slowClientPolicy === "close") return "close";
      this.droppedFrames++;
      return "drop";
    }
    if (socketBacklog !== null) return "write";
    this.#held ??= [];
    this.#held.push(data);
    this.#heldBytes += typeof data === "string" ? data.length : data.byteLength;
    return "hold";
  }

  /** The held frames, oldest first; the buffer is empty afterwards. */
  drain(): ReadonlyArray<string | Uint8Array> {
    const held = this.#held ?? NOTHING_HELD;
    this.clear();
    return held;
  }

  /** Forgets the held frames: nobody will read them. */
  clear(): void {
    this.#held = null;
    this.#heldBytes = 0;
  }
}
