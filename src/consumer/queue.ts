/**
 * Runs tasks one at a time in the order they were pushed. Runtimes call socket handlers without
 * awaiting them; this queue is what makes a consumer see its frames strictly in order. Every queue
 * shares one budget of work per turn of the event loop (turns.ts): past it, a queue waits for the
 * next turn, keeping its order and dropping nothing.
 *
 * A task that finishes synchronously is followed by the next at once; only a task that returns a
 * promise makes the queue wait, for that promise. A group message reaching a thousand members whose
 * handlers do not wait for anything costs no promise and no microtask per member.
 *
 * Layer messages wait as themselves, not wrapped in a closure each: the queue hands them to its
 * message runner (the connection's inbox). A burst into a room holds one slot per queued delivery.
 */
import type { Message } from "../layers/layer.ts";
import { SLICE_TASKS, turnClock, waitInLine } from "./turns.ts";

/**
 * A queued task, given the time it starts (`performance.now()`, read for the turn's budget
 * anyway); its promise, if any, is awaited before the next task starts.
 */
export type Task = (started: number) => PromiseLike<void> | void;

/** Runs a queued layer message, given the time it starts; its promise is awaited like a task's. */
export interface MessageRunner {
  run(started: number, message: Message): PromiseLike<void> | void;
}

/** One connection's tasks and layer messages, in order. */
export class SerialQueue {
  #messages: MessageRunner | null = null;
  // Both made when first needed and let go when the queue empties: an idle connection keeps
  // neither an array nor a closure.
  #tasks: Array<Task | Message> | null = null;
  #head = 0;
  #running = false;
  /** Handed to promises and to the turn scheduler for every wait of one busy spell. */
  #resume: (() => void) | null = null;

  /** Where queued layer messages go when their turn comes; set once, before the first is pushed. */
  runMessagesWith(runner: MessageRunner): void {
    this.#messages = runner;
  }

  /**
   * Queues a task, or a layer message for the queue's message runner. Both must handle their own
   * errors; a throw is swallowed to keep the queue alive.
   */
  push(task: Task | Message): void {
    this.#tasks ??= [];
    this.#tasks.push(task);
    if (this.#running) return;
    this.#running = true;
    this.#run();
  }

  /**
   * Runs tasks until the queue is empty or a task returns a promise; after a slice of them, or
   * once the turn's budget is spent, it waits in line for its next slice (turns.ts).
   */
  #run(): void {
    let slice = SLICE_TASKS;
    let tasks = this.#tasks as Array<Task | Message>;
    while (this.#head < tasks.length) {
      const now = turnClock();
      if (now === null || slice-- === 0) {
        waitInLine(this.#resumer());
        return;
      }
      const next = tasks[this.#head]!;
      this.#head++;
      // Compact now and then instead of shift(), which is O(n) per task on long queues.
      if (this.#head > 1024 && this.#head * 2 > tasks.length) {
        tasks = this.#tasks = tasks.slice(this.#head);
        this.#head = 0;
      }
      let pending: PromiseLike<void> | void;
      try {
        pending = typeof next === "function" ? next(now) : this.#messages!.run(now, next);
      } catch {
        continue; // tasks report their own errors; nothing here may stop the queue
      }
      if (pending && typeof pending.then === "function") {
        const resume = this.#resumer();
        pending.then(resume, resume);
        return;
      }
    }
    this.#tasks = null;
    this.#resume = null;
    this.#head = 0;
    this.#running = false;
  }

  #resumer(): () => void {
    this.#resume ??= () => this.#run();
    return this.#resume;
  }
}
