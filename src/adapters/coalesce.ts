/**
 * Coalescing of a socket's outgoing frames. Written one by one, every frame costs a system call
 * (in a busy room most of the server's CPU went to the kernel); held and written together, a
 * socket's frames cost one.
 *
 * Two shapes have to be served. One frame per socket at a time (echo) gains nothing from holding,
 * which only adds latency. So outside a burst, the first frame a socket gets in a turn of the event
 * loop goes straight out; only a second one in the same turn starts holding, and what was held
 * goes out together when the turn ends. A turn that writes to more than `FANOUT_SOCKETS` sockets is
 * a fan-out (a message to a large room): past those, first frames are held too, and go out at the
 * end of the turn in one tight loop of writes. Written between each member's handler they cost
 * the kernel more per write (the reader is woken once per write); held, fan-out to 500 members ran
 * 1.2-1.3x faster with 3-9% less server CPU per delivery on Bun and Node.
 *
 * In a burst (many frames to many sockets), the runner's per-turn budget (consumer/turns.ts) cuts
 * the work into turns of about 5 ms, each holding about one frame per socket: per-turn batches
 * would be batches of one. So while the budget keeps deferring work to the next turn (a burst), a
 * socket's second frame of the burst and those after it are held, across turns, until its stream or
 * the burst ends, `HOLD_MAX_MS` passed or `HOLD_MAX_BYTES` piled up: they arrive at most that much
 * later, in fewer, larger writes. A socket that gets one frame per burst (a large room, one message
 * at a time) is written at once.
 *
 * Each adapter's peer is a `TurnGate` and says how to hold and release (Bun: a list written inside
 * `ws.cork()`; Node: cork and uncork the TCP socket).
 */

/** Longest a frame is held during a burst: a bound on the latency coalescing adds. */
export const HOLD_MAX_MS = 10;
/** A socket holding this much is released at the end of the turn, burst or not. */
export const HOLD_MAX_BYTES = 64 * 1024;

/**
 * Sockets a turn writes to before it counts as a fan-out. Past them, even a socket's first frame of
 * the turn waits for its end: a message to a large room then goes out in one tight loop of writes
 * instead of one write between each member's handler, which cost the kernel more per write.
 */
export const FANOUT_SOCKETS = 8;

/** Runs a callback right after the runtime's next I/O poll (all three runtimes have setImmediate). */
const atTurnEnd: (callback: () => void) => void = (callback) => globalThis.setImmediate(callback);

/** Counts turns that had writes in them; a socket compares it with the turn of its last frame. */
let turn = 0;
/** Sockets written to in the current turn. */
let socketsThisTurn = 0;
let scheduled = false;
/** Whether the runner deferred queued work out of this turn, and whether it did in the last one. */
let deferredThisTurn = false;
let inBurst = false;
/** The first turn of the current burst: the turn that first deferred work. */
let burstStart = 0;
/** Sockets holding frames, released in the order they started holding. */
let holding: TurnGate[] = [];

function endTurn(): void {
  scheduled = false;
  socketsThisTurn = 0;
  const ending = turn++;
  if (deferredThisTurn && !inBurst) burstStart = ending;
  inBurst = deferredThisTurn;
  deferredThisTurn = false;
  const now = performance.now();
  const kept: TurnGate[] = [];
  for (const gate of holding) {
    if (!gate.holding) continue; // released early, by a close
    // Kept only while the burst goes on, for a bounded time.
    if (inBurst && !gate.due(now)) kept.push(gate);
    else releaseQuietly(gate);
  }
  holding = kept;
  // Frames still held need another end of turn, whether or not anything is written meanwhile; and
  // a burst is over only once a turn ends without deferring work.
  if (kept.length > 0 || inBurst) scheduleEndOfTurn();
}

/** One socket's failing write must not keep every other socket's frames held. */
function releaseQuietly(gate: TurnGate): void {
  try {
    gate.releaseHeld();
  } catch {
    // The socket broke under us: its close event ends its connection.
  }
}

function scheduleEndOfTurn(): void {
  if (scheduled) return;
  scheduled = true;
  atTurnEnd(endTurn);
}

/** Writes every socket's held frames now: a native publish must not overtake them. */
export function releaseHeldFrames(): void {
  if (holding.length === 0) return;
  const released = holding;
  holding = [];
  for (const gate of released) releaseQuietly(gate);
}

/** The runner put queued work off to the next turn (its budget ran out): a burst is going on. */
export function noteDeferredTurn(): void {
  deferredThisTurn = true;
}

/**
 * One socket's gate: decides, frame by frame, whether to write now or to hold. An adapter's peer
 * extends it and says how to hold and release: one object per socket, not a peer and a gate.
 */
export abstract class TurnGate {
  #lastTurn = -1;
  #holding = false;
  #heldSince = 0;

  /** Frames from now on wait. */
  protected abstract holdFrames(): void;
  /** Writes what was held, in order, in as few system calls as the runtime allows. */
  protected abstract writeHeld(): void;
  /** Bytes held so far. */
  protected abstract heldBytes(): number;

  /** Whether frames are being held. */
  get holding(): boolean {
    return this.#holding;
  }

  /** Called before each frame is written: decides whether this frame and the next are held. */
  beforeWrite(): void {
    if (this.#holding) return;
    const first = this.#lastTurn !== turn;
    // In a burst, a socket written earlier in the same burst is a stream worth holding; one that
    // gets a single frame per burst (a large room, one message at a time) is not.
    const streaming = inBurst && this.#lastTurn >= burstStart;
    this.#lastTurn = turn;
    scheduleEndOfTurn();
    if (first && !streaming && ++socketsThisTurn <= FANOUT_SOCKETS) return;
    this.#holding = true;
    this.#heldSince = performance.now();
    this.holdFrames();
    holding.push(this);
  }

  /** Whether held frames must go out at this end of turn even though the burst goes on. */
  due(now: number): boolean {
    return now - this.#heldSince >= HOLD_MAX_MS || this.heldBytes() >= HOLD_MAX_BYTES;
  }

  /** Writes the held frames now (before a close frame, which must come after them). */
  releaseHeld(): void {
    if (!this.#holding) return;
    this.#holding = false;
    this.writeHeld();
  }
}
