/**
 * The budget every connection queue shares per turn of the event loop. A handler's awaits resolve
 * as microtasks, and a burst fanned out to a room's members is nothing but microtasks: left alone
 * it runs to the end before the runtime reads a socket or a timer fires again, so one client could
 * stop the process answering anyone for seconds. Past the budget, queues wait for the next turn.
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
let nextTurn: Promise<void> | null = null;

/** When the current turn's queued work began; the first call in a turn starts its clock. */
function turnStart(now: number): number {
  if (turnStarted < 0) {
    turnStarted = now;
    // Its next callback means the event loop went round: a new turn with a fresh budget.
    soon(() => {
      turnStarted = -1;
    });
  }
  return turnStarted;
}

/** Whether the queues have used this turn's budget. */
export function overTurnBudget(): boolean {
  const now = performance.now();
  return now - turnStart(now) > TURN_BUDGET_MS;
}

/** Resolves on the next turn of the event loop, after pending I/O had its chance. */
export function waitForNextTurn(): Promise<void> {
  // Sockets hold their frames across such turns, to write them in fewer calls (adapters/coalesce.ts).
  noteDeferredTurn();
  nextTurn ??= new Promise((resolve) =>
    soon(() => {
      nextTurn = null;
      resolve();
    }),
  );
  return nextTurn;
}
