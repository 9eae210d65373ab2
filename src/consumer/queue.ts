/**
 * Runs tasks one at a time in the order they were pushed. Runtimes call socket handlers without
 * awaiting them; this queue is what makes a consumer see its frames strictly in order. Every queue
 * shares one budget of work per turn of the event loop (turns.ts): past it, a queue waits for the
 * next turn, keeping its order and dropping nothing.
 *
 * A task that finishes synchronously is followed by the next at once; only a task that returns a
 * promise makes the queue wait, for that promise. A group message reaching a thousand members whose
 * handlers do not wait for anything costs no promise and no microtask per member.
 */
import { resumeNextTurn, turnClock } from "./turns.ts";

/**
 * A queued task, given the time it starts (`performance.now()`, read for the turn's budget
 * anyway); its promise, if any, is awaited before the next task starts.
 */
export type Task = (started: number) => PromiseLike<void> | void;

/** One connection's tasks, in order. */
export class SerialQueue {
  #tasks: Task[] = [];
  #head = 0;
  #running = false;
  /** Bound once: handed to promises and to the turn scheduler for every wait. */
  readonly #resume = () => this.#run();

  /** Queues a task. Tasks must handle their own errors; a throw is swallowed to keep the queue alive. */
  push(task: Task): void {
    this.#tasks.push(task);
    if (this.#running) return;
    this.#running = true;
    this.#run();
  }

  /** Runs tasks until the queue is empty, a task returns a promise, or the turn's budget is spent. */
  #run(): void {
    while (this.#head < this.#tasks.length) {
      const now = turnClock();
      if (now === null) {
        resumeNextTurn(this.#resume);
        return;
      }
      const task = this.#tasks[this.#head]!;
      this.#head++;
      // Compact now and then instead of shift(), which is O(n) per task on long queues.
      if (this.#head > 1024 && this.#head * 2 > this.#tasks.length) {
        this.#tasks = this.#tasks.slice(this.#head);
        this.#head = 0;
      }
      let pending: PromiseLike<void> | void;
      try {
        pending = task(now);
      } catch {
        continue; // tasks report their own errors; nothing here may stop the queue
      }
      if (pending && typeof pending.then === "function") {
        pending.then(this.#resume, this.#resume);
        return;
      }
    }
    this.#tasks = [];
    this.#head = 0;
    this.#running = false;
  }
}
