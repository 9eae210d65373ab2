/** A clock tests move by hand: `sleep` resolves when `advance` passes its deadline. */
import type { Clock } from "../../src/background/clock.ts";

export class FakeClock implements Clock {
  #now = 0;
  #sleepers: Array<{ until: number; wake: () => void }> = [];

  now(): number {
    return this.#now;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted || ms <= 0) return resolve();
      const sleeper = { until: this.#now + ms, wake: resolve };
      this.#sleepers.push(sleeper);
      signal?.addEventListener("abort", () => resolve(), { once: true });
    });
  }

  /** Moves time forward by `ms` in small steps, letting woken code run between them. */
  async advance(ms: number, step = 10): Promise<void> {
    const end = this.#now + ms;
    while (this.#now < end) {
      this.#now = Math.min(end, this.#now + step);
      const due = this.#sleepers.filter((sleeper) => sleeper.until <= this.#now);
      this.#sleepers = this.#sleepers.filter((sleeper) => sleeper.until > this.#now);
      for (const sleeper of due) sleeper.wake();
      for (let i = 0; i < 20; i++) await Promise.resolve(); // let the woken chains reach their next sleep
    }
  }
}
