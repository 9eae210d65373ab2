/** The live connections of one app, so shutdown can close each and wait for its `disconnect()`. */
import { counters } from "../metrics/counters.ts";
import type { ConsumerRunner, FinishListener } from "./runner.ts";

/** A set of running consumers that removes each one when its `disconnect()` has run. */
export class ConnectionSet implements FinishListener {
  #runners = new Set<ConsumerRunner>();
  #accepting = true;

  /** False once shutdown has begun: new upgrades are refused. */
  get accepting(): boolean {
    return this.#accepting;
  }

  /** Number of connections that have not finished. */
  get size(): number {
    return this.#runners.size;
  }

  /** The first live connection `matches` picks (tests find theirs by a header of their scope). */
  find(matches: (runner: ConsumerRunner) => boolean): ConsumerRunner | undefined {
    for (const runner of this.#runners) if (matches(runner)) return runner;
    return undefined;
  }

  /** Tracks a runner until it finishes. */
  add(runner: ConsumerRunner): void {
    this.#runners.add(runner);
    counters.connectionsOpened++;
    runner.onFinished(this);
  }

  /** @internal A runner's `disconnect()` has run: it is no longer live. */
  runnerFinished(runner: ConsumerRunner): void {
    if (this.#runners.delete(runner)) counters.connectionsClosed++;
  }

  /** Closes every connection with `code` and resolves when every `disconnect()` has run. */
  async closeAll(code: number, reason: string, timeoutMs: number): Promise<void> {
    this.#accepting = false;
    await Promise.all([...this.#runners].map((runner) => runner.shutdown(code, reason, timeoutMs)));
  }
}
