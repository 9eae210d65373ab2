/**
 * Runs tasks one at a time in the order they were pushed. Runtimes call socket handlers without
 * awaiting them; this queue is what makes a consumer see its frames strictly in order.
 *
 * Every queue shares one budget per turn of the event loop. A handler's awaits resolve as
 * microtasks, and a burst fanned out to a room's members is nothing but microtasks: left alone it
 * runs to the end before the runtime reads a socket or a timer fires again, so one client could
 * stop the process answering anyone for seconds. Past the budget, queues wait for the next turn;
 * their order is kept and nothing is dropped.
 */

/** Milliseconds of queued work per turn of the event loop before the queues step aside for I/O. */
export const TURN_BUDGET_MS = 5;

// setImmediate runs right after the runtime polled for I/O (Node clamps setTimeout(0) to 1 ms of
// idling); Deno has no setImmediate outside Node compatibility, so a zero timer there.
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

/** Resolves on the next turn of the event loop, after pending I/O had its chance. */
function waitForNextTurn(): Promise<void> {
  nextTurn ??= new Promise((resolve) =>
    soon(() => {
      nextTurn = null;
      resolve();
    }),
  );
  return nextTurn;
}

/** One connection's tasks, in order. */
export class SerialQueue {
  #tasks: Array<() => Promise<void> | void> = [];
  #head = 0;
  #running = false;

  /** Queues a task. Tasks must handle their own errors; a throw is swallowed to keep the queue alive. */
  push(task: () => Promise<void> | void): void {
    this.#tasks.push(task);
    if (!this.#running) void this.#drain();
  }

  async #drain(): Promise<void> {
    this.#running = true;
    while (this.#head < this.#tasks.length) {
      const now = performance.now();
      if (now - turnStart(now) > TURN_BUDGET_MS) {
        await waitForNextTurn();
        continue;
      }
      const task = this.#tasks[this.#head]!;
      this.#head++;
      try {
        await task();
      } catch {
        // Tasks report their own errors; nothing here may stop the queue.
      }
      // Compact now and then instead of shift(), which is O(n) per task on long queues.
      if (this.#head > 1024 && this.#head * 2 > this.#tasks.length) {
        this.#tasks = this.#tasks.slice(this.#head);
        this.#head = 0;
      }
    }
    this.#tasks = [];
    this.#head = 0;
    this.#running = false;
  }
}
