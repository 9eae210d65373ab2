/**
 * Runs one periodic task in this process, and makes sure no other process runs it at the same
 * time: before each run the process takes (or renews) the task's lease from the layer, for one
 * and a half intervals. The holder renews it at every run and every half interval while a run
 * lasts; the others try every half interval. When the holder dies, its lease lapses within one
 * and a half intervals and another process takes over within two.
 *
 * A run that throws is logged and counted, and the schedule goes on. Runs never overlap: the next
 * starts one interval after the previous started, or as soon as it ended if it took longer.
 */
import type { Logger } from "../log.ts";
import type { Clock } from "./clock.ts";
import type { Leases } from "./lease.ts";
import type { TaskContext, TaskDefinition } from "./task.ts";

/** What the runner counts, for metrics. */
export interface TaskStats {
  runs: number;
  failures: number;
  /** Whether this process holds the lease now. */
  holding: boolean;
}

/** Options of one task's runner. */
export interface TaskRunnerOptions {
  task: TaskDefinition;
  context: Omit<TaskContext, "name" | "signal">;
  leases: Leases;
  /** Names this process as a lease holder. */
  holder: string;
  clock: Clock;
  logger: Logger;
}

/** One task's schedule in this process. */
export class TaskRunner {
  readonly stats: TaskStats = { runs: 0, failures: 0, holding: false };
  readonly #options: TaskRunnerOptions;
  readonly #stop = new AbortController();
  #loop: Promise<void> | null = null;

  constructor(options: TaskRunnerOptions) {
    this.#options = options;
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  /** Stops the schedule; resolves once a run in progress has ended and the lease is given back. */
  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#loop;
  }

  async #run(): Promise<void> {
    const { task, clock } = this.#options;
    const signal = this.#stop.signal;
    await clock.sleep(task.everyMs, signal);
    while (!signal.aborted) {
      if (!(await this.#takeLease())) {
        await clock.sleep(task.everyMs / 2, signal);
        continue;
      }
      if (signal.aborted) break; // stopped while the lease was being taken: no new run
      const started = clock.now();
      await this.#runOnce(signal);
      await clock.sleep(Math.max(0, task.everyMs - (clock.now() - started)), signal);
    }
    if (this.stats.holding)
      await this.#options.leases.release(task.name, this.#options.holder).catch(() => {});
    this.stats.holding = false;
  }

  /**
   * One run, renewing the lease every half interval while it lasts. If a renewal fails, another
   * process may take the task over: the run's signal aborts, so it can stop before they overlap.
   */
  async #runOnce(stopping: AbortSignal): Promise<void> {
    const { task, context, clock, logger } = this.#options;
    const run = new AbortController();
    const stop = () => run.abort(stopping.reason);
    stopping.addEventListener("abort", stop, { once: true });
    const finished = new AbortController();
    const renewing = (async () => {
      for (;;) {
        await clock.sleep(task.everyMs / 2, finished.signal);
        if (finished.signal.aborted) return;
        if (!(await this.#takeLease())) {
          logger.warn(`task ${task.name}: lost its lease while running; its signal aborts`);
          run.abort(new Error(`task ${task.name} lost its lease`));
          return;
        }
      }
    })();
    try {
      this.stats.runs++;
      await task.run({ ...context, name: task.name, signal: run.signal });
    } catch (error) {
      this.stats.failures++;
      logger.error(`task ${task.name} failed`, { error });
    } finally {
      stopping.removeEventListener("abort", stop);
      finished.abort();
      await renewing;
    }
  }

  async #takeLease(): Promise<boolean> {
    const { task, leases, holder, logger } = this.#options;
    try {
      this.stats.holding = await leases.acquire(task.name, holder, task.everyMs * 1.5);
    } catch (error) {
      // The layer is away: nobody can be sure to hold the lease, so nobody runs.
      logger.warn(`task ${task.name}: cannot take its lease: ${(error as Error).message}`);
      this.stats.holding = false;
    }
    return this.stats.holding;
  }
}
