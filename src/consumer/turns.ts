/**
 * The budget every connection queue shares per turn of the event loop. A handler's awaits resolve
 * as microtasks, and a burst fanned out to a room's members is nothing but microtasks: left alone
 * it runs to the end before the runtime reads a socket or a timer fires again, so one client could
 * stop the process answering anyone for seconds. Past the budget, queues wait for the next turn.
 *
 * Queues also take turns among themselves: a queue runs a slice of `SLICE_TASKS` tasks at a time,
 * then goes to the back of one line of queues with work left, which is worked through in order
 * while the budget lasts and resumed on the next turn when it is spent. A client bursting thousands
 * of frames into a room gets a slice like every other connection, so a message in another room
 * waits for one slice of each busy queue, not for the burst. A thousand busy queues cost one
 * callback per turn, not a thousand wake-ups that only find the budget spent.
 *
 * The budget covers what the runtime does later for the queues' work too, when it says so: Deno
 * writes each sent frame after the turn's JavaScript, and its adapter's estimate of that writing is
 * charged to the turn with each send (`chargeTurn`).
 */
import { noteDeferredTurn } from "../adapters/coalesce.ts";

/** Milliseconds of queued work per turn of the event loop before the queues step aside for I/O. */
export const TURN_BUDGET_MS = 5;

// setImmediate (Bun, Deno and Node have it) runs right after the runtime polled for I/O; Node
// clamps setTimeout(0) to 1 ms of idling, so a zero timer is only the fallback.
const soon: (callback: () => void) => void =
  typeof globalThis.setImmediate === "function"
    ? (callback) => globalThis.setImmediate(callback)
    : (callback) => setTimeout(callback, 0);

let turnStarted = -1;
/** Milliseconds of the runtime's work after this turn that the queues' work in it caused. */
let charged = 0;
/** Tasks one queue runs before the others get theirs: fairness between connections. */
export const SLICE_TASKS = 16;

/** Queues with work left, in the order they stepped aside; `head` is the next to resume. */
let waiting: Array<() => void> = [];
let head = 0;
let resumeScheduled = false;
let resuming = false;

/**
 * The time now (`performance.now()`), or null once the queues have used this turn's budget. The
 * first call in a turn starts its clock. A task is handed the time this read, so timing its handler
 * costs one more read of the clock, not two: on Deno each read is a call into the runtime.
 */
export function turnClock(): number | null {
  const now = performance.now();
  if (turnStarted < 0) {
    turnStarted = now;
    charged = 0;
    // Its next callback means the event loop went round: a new turn with a fresh budget.
    soon(() => {
      turnStarted = -1;
    });
    return now;
  }
  return now - turnStarted + charged > TURN_BUDGET_MS ? null : now;
}

/**
 * Counts `ms` against this turn's budget: work the runtime will do after the turn's JavaScript for
 * what the queues did in it (Deno writes sent frames then), which the clock cannot see.
 */
export function chargeTurn(ms: number): void {
  // A write before any queue ran this turn (a relay from a pub/sub message) opens the turn's clock:
  // its charge belongs to this turn, which resets it when it ends.
  if (turnStarted < 0) turnClock();
  charged += ms;
}

/**
 * Puts a queue at the back of the line: `resume` is called when its turn comes, later in this turn
 * of the event loop if the budget lasts (after the I/O callbacks in hand), else on the next.
 */
export function waitInLine(resume: () => void): void {
  waiting.push(resume);
  if (!resuming) scheduleResume();
}

function scheduleResume(): void {
  if (resumeScheduled) return;
  resumeScheduled = true;
  soon(resumeWaiting);
}

function resumeWaiting(): void {
  resumeScheduled = false;
  resuming = true;
  // Queues that step aside while this runs join the same line, and get their turn in it.
  while (head < waiting.length) {
    if (turnClock() === null) {
      // The budget is spent: the rest of the line goes on next turn, after pending I/O.
      waiting = waiting.slice(head);
      head = 0;
      resuming = false;
      // Sockets hold their frames across such turns, to write them in fewer calls (adapters/coalesce.ts).
      noteDeferredTurn();
      scheduleResume();
      return;
    }
    waiting[head++]!();
  }
  waiting = [];
  head = 0;
  resuming = false;
}
