/**
 * Runs tasks one at a time in the order they were pushed. Runtimes call socket handlers without
 * awaiting them; this queue is what makes a consumer see its frames strictly in order.
 */
export class SerialQueue {
  #tasks: Array<() => Promise<void> | void> = [];
  #head = 0;
  #running = false;
  #idle: Array<() => void> = [];

  /** Tasks waiting, including the one running. */
  get size(): number {
    return this.#tasks.length - this.#head + (this.#running ? 1 : 0);
  }

  /** Queues a task. Tasks must handle their own errors; a throw is swallowed to keep the queue alive. */
  push(task: () => Promise<void> | void): void {
    this.#tasks.push(task);
    if (!this.#running) void this.#drain();
  }

  /** Resolves once every task pushed so far has run. */
  idle(): Promise<void> {
    if (!this.#running && this.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  async #drain(): Promise<void> {
    this.#running = true;
    while (this.#head < this.#tasks.length) {
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
    for (const resolve of this.#idle.splice(0)) resolve();
  }
}
