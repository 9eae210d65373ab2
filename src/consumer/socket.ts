/**
 * The runner's end of the socket: frames held until the runtime opens it, writes as flow control
 * rules them, and closes that cannot throw into the runner.
 */

import type { Peer } from "../adapters/runtime.ts";
import { counters } from "../metrics/counters.ts";
import { type Outbound, OutboundBuffer } from "./flow.ts";
import { chargeTurn } from "./turns.ts";

/** A close the server sends: code and reason. */
export type Close = { code: number; reason: string };

/** How long the runtime may take to open the socket after accept(); past it the upgrade failed. */
const OPEN_DEADLINE_MS = 10_000;
/** How long a client that stopped reading gets to complete the close before it is dropped. */
const SLOW_CLIENT_GRACE_MS = 5000;

/**
 * One connection's socket, before and after the runtime opens it. It is its own outbound buffer
 * (flow.ts judges each write): one object per connection, not two.
 */
export class SocketEnd extends OutboundBuffer {
  #peer: Peer | null = null;
  #openDeadline: ReturnType<typeof setTimeout> | undefined;
  #dropTimer: ReturnType<typeof setTimeout> | undefined;

  /** Whether the runtime has opened the socket. */
  get opened(): boolean {
    return this.#peer !== null;
  }

  /** The runtime's socket, once opened. */
  get peer(): Peer | null {
    return this.#peer;
  }

  /** Calls `missed` unless the runtime opens the socket in time (a client gone mid-handshake). */
  expectOpen(missed: () => void, ms = OPEN_DEADLINE_MS): void {
    this.#openDeadline = setTimeout(missed, ms);
  }

  /** The runtime opened the socket: the frames held meanwhile go out first, in order. */
  attach(peer: Peer): void {
    this.#stopWaitingForOpen();
    this.#peer = peer;
    for (const data of this.drain()) peer.send(data);
  }

  /** Writes a frame (or holds it until the socket opens); `drop` and `close` are for the caller. */
  write(data: string | Uint8Array): Outbound {
    const peer = this.#peer;
    const verdict = this.offer(data, peer ? peer.bufferedAmount : null);
    if (verdict === "write" && peer) {
      counters.framesOut++;
      peer.send(data);
      // A runtime that writes after the turn (Deno): the turn's budget counts that writing too.
      if (peer.deferredWriteMs) chargeTurn(peer.deferredWriteMs);
    }
    return verdict;
  }

  /** Starts the closing handshake once opened; if the runtime throws, drops the socket and returns why. */
  close({ code, reason }: Close): { error: unknown } | null {
    try {
      this.#peer?.close(code, reason);
      return null;
    } catch (error) {
      this.#peer?.terminate?.();
      return { error };
    }
  }

  /** Drops the socket after a grace period, then calls `dropped`: a slow client may never read its close. */
  dropAfter(dropped: () => void, ms = SLOW_CLIENT_GRACE_MS): void {
    this.#dropTimer = setTimeout(() => {
      this.#peer?.terminate?.();
      dropped();
    }, ms);
  }

  /** Nothing more will be written: forgets the held frames and stops waiting for the open. */
  abandon(): void {
    this.clear();
    this.#stopWaitingForOpen();
  }

  /** The connection finished: none of this socket's timers may fire any more. */
  dispose(): void {
    this.#stopWaitingForOpen();
    clearTimeout(this.#dropTimer);
    this.#dropTimer = undefined;
  }

  /** Clears the open deadline and lets go of its timer, which an idle connection would otherwise keep. */
  #stopWaitingForOpen(): void {
    if (this.#openDeadline === undefined) return;
    clearTimeout(this.#openDeadline);
    this.#openDeadline = undefined;
  }
}

/** Closes a socket that opened after its connection ended, with the close it was owed (or 1001). */
export function closeLateSocket(peer: Peer, owed: Close | null): void {
  try {
    peer.close(owed?.code ?? 1001, owed?.reason ?? "");
  } catch {
    peer.terminate?.();
  }
}
