/**
 * The budget every connection queue shares per turn of the event loop. A handler's awaits resolve
 * as microtasks, and a burst fanned out to a room's members is nothing but microtasks: left alone
 * it runs to the end before the runtime reads a socket or a timer fires again, so one client could
 * stop the process answering anyone for seconds. Past the budget, queues wait for the next turn.
 *
 * Queues that ran out of budget wait in one line and are resumed in that order on the next turn,
 * until the budget is spent again; the rest keep their place at the front for the turn after. So
 * a thousand busy queues cost one callback per turn, not a thousand wake-ups that only find the
 * budget spent, and every queue gets its turn in order: none starves.
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
/** Queues waiting for the next turn, in the order they ran out of budget. */
let waiting: Array<() => void> = [];
let resumeScheduled = false;

/**
 * The time now (`performance.now()`), or null once the queues have used this turn's budget. The
 * first call in a turn starts its clock. A task is handed the time this read, so timing its handler
 * costs one more read of the clock, not two: on Deno each read is a call into the runtime.
 */
export function turnClock(): number | null {
  const now = performance.now();
  if (turnStarted < 0) {
    turnStarted = now;
    // Its next callback means the event loop went round: a new turn with a fresh budget.
    soon(() => {
      turnStarted = -1;
    });
    return now;
  }
  return now - turnStarted > TURN_BUDGET_MS ? null : now;
}

/** Calls `resume` on a later turn of the event loop, after pending I/O had its chance, in line. */
export function resumeNextTurn(resume: () => void): void {
  // Sockets hold their frames across such turns, to write them in fewer calls (adapters/coalesce.ts).
  noteDeferredTurn();
  waiting.push(resume);
  if (!resumeScheduled) {
    resumeScheduled = true;
    soon(resumeWaiting);
  }
}

function resumeWaiting(): void {
  resumeScheduled = false;
  const line = waiting;
  waiting = [];
  for (let i = 0; i < line.length; i++) {
    if (turnClock() === null) {
      // Spent again: the rest go first next turn, ahead of queues that ran out during this one.
      waiting = line.slice(i).concat(waiting);
      resumeScheduled = true;
      noteDeferredTurn();
      soon(resumeWaiting);
      return;
    }
    line[i]!();
  }
}
