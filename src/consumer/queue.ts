/**
 * Runs tasks one at a time in the order they were pushed. Runtimes call socket handlers without
 * awaiting them; this queue is what makes a consumer see its frames strictly in order. Every queue
 * shares one budget of work per turn of the event loop (turns.ts): past it, a queue waits for the
 * next turn, keeping its order and dropping nothing.
 */
import { overTurnBudget, waitForNextTurn } from "./turns.ts";

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
      if (overTurnBudget()) {
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
