/**
 * Periodic tasks: a file in `tasks/` exports how often it runs and what it does.
 * @example
 * // tasks/live-tick.ts
 * export const every = "10s";
 * export default async function liveTick({ layer }: TaskContext) {
 *   await layer.groupSend("live", { type: "live.tick", at: new Date().toISOString() });
 * }
 * Runs start one interval after startup, never overlap (a run longer than the interval delays
 * the next), and are stopped on shutdown (`signal` aborts; the run in progress is waited for). With
 * a layer shared by several processes exactly one process runs a task at a time (see task-runner.ts).
 */
import { RouteError } from "../errors.ts";
import type { ChannelLayer, MessageMap } from "../layers/layer.ts";
import type { Logger } from "../log.ts";

/** What a task run gets; `M` types the messages it sends through `layer`. */
export interface TaskContext<M extends MessageMap = MessageMap> {
  /** The task's name: its file's path in `tasks/` without the extension. */
  name: string;
  layer: ChannelLayer<M>;
  logger: Logger;
  /**
   * Aborts when the process shuts down, or when this process lost the task's lease while running
   * (another may start it): a long run should check it and stop early.
   */
  signal: AbortSignal;
}

/** A task as its file declares it. */
export interface TaskDefinition {
  name: string;
  everyMs: number;
  run(context: TaskContext): unknown;
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const EVERY = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)$/;
/** Shorter intervals would make the lease traffic the task. */
const MIN_EVERY_MS = 50;
/** Timers overflow past 2^31 - 1 ms (about 24.8 days) and fire at once: a tight loop. */
const MAX_EVERY_MS = 2 ** 31 - 1;

/** The interval in ms of `every`: seconds as a number, or `"500ms"`, `"10s"`, `"5m"`, `"1h"`. */
export function parseEvery(every: unknown, file: string): number {
  const match = typeof every === "string" ? EVERY.exec(every.trim()) : null;
  const ms =
    typeof every === "number" ? every * 1000 : match ? Number(match[1]) * UNITS[match[2]!]! : Number.NaN;
  if (!Number.isFinite(ms) || ms < MIN_EVERY_MS || ms > MAX_EVERY_MS) {
    throw new RouteError(
      "INVALID_SCHEDULE",
      file,
      `export const every = ${JSON.stringify(every)} is not an interval from ${MIN_EVERY_MS} ms to 24 days. ` +
        'Use seconds (10) or a string such as "500ms", "10s", "5m", "1h".',
    );
  }
  return ms;
}

/** The task a `tasks/` module declares; throws a `RouteError` naming the file if it declares none. */
export function toTask(file: string, module: Record<string, unknown>): TaskDefinition {
  const label = `tasks/${file}`;
  if (typeof module.default !== "function") {
    throw new RouteError("NO_HANDLER", label, "A task file must default-export the function to run.");
  }
  return {
    name: file.replace(/\.[cm]?[jt]sx?$/, ""),
    everyMs: parseEvery(module.every, label),
    run: module.default as TaskDefinition["run"],
  };
}
