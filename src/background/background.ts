/**
 * Background work of one process: the workers of `workers/` and the periodic tasks of `tasks/`,
 * started after the layer and stopped, waiting for the work in hand, before it closes.
 */
import { RouteError } from "../errors.ts";
import type { ChannelLayer } from "../layers/layer.ts";
import { assertChannelName } from "../layers/rules.ts";
import type { Logger } from "../log.ts";
import type { BackgroundManifest } from "../routing/scan.ts";
import { type Clock, systemClock } from "./clock.ts";
import { leasesOf } from "./lease.ts";
import { type TaskDefinition, toTask } from "./task.ts";
import { TaskRunner, type TaskStats } from "./task-runner.ts";
import { isWorkerClass, type WorkerClass } from "./worker.ts";
import { runWorker, type WorkerStats } from "./worker-loop.ts";

/** A worker file, checked: its class and the channel it consumes. */
export interface WorkerRoute {
  file: string;
  channel: string;
  worker: WorkerClass;
}

/** Checks every `workers/` module; the channel is the file's path with `/` as `.`. */
export function resolveWorkers(manifest: BackgroundManifest): WorkerRoute[] {
  return manifest.workers.map(({ file, module }) => {
    const label = `workers/${file}`;
    if (!isWorkerClass(module.default)) {
      throw new RouteError("NO_WORKER", label, "A worker file must default-export a class extending Worker.");
    }
    const channel = file.replace(/\.[cm]?[jt]sx?$/, "").replaceAll("/", ".");
    try {
      assertChannelName(channel);
      // A `!` name belongs to one process; a worker's channel is shared by every process.
      if (channel.includes("!"))
        throw new Error(`${channel} holds "!": a worker's channel cannot be process-local.`);
    } catch (error) {
      throw new RouteError("NO_WORKER", label, (error as Error).message, { cause: error });
    }
    return { file: label, channel, worker: module.default };
  });
}

/** Checks every `tasks/` module. */
export function resolveTasks(manifest: BackgroundManifest): TaskDefinition[] {
  return manifest.tasks.map(({ file, module }) => toTask(file, module));
}

/** What runs, for metrics and the startup line. */
export interface BackgroundStats {
  workers: Map<string, WorkerStats>;
  tasks: Map<string, TaskStats>;
}

/** Options of `startBackground`. */
export interface BackgroundOptions {
  workers: WorkerRoute[];
  tasks: TaskDefinition[];
  layer: ChannelLayer;
  logger: Logger;
  clock?: Clock;
}

/** Running background work: `stop()` resolves once every handler and task run in progress ended. */
export interface Background {
  stats: BackgroundStats;
  stop(): Promise<void>;
}

/** Starts every worker loop and task schedule. */
export function startBackground(options: BackgroundOptions): Background {
  const { layer, logger } = options;
  const stopping = new AbortController();
  const stats: BackgroundStats = { workers: new Map(), tasks: new Map() };
  const loops = options.workers.map(({ channel, worker }) => {
    const workerStats = { handled: 0, failed: 0 };
    stats.workers.set(channel, workerStats);
    return runWorker(worker, { channel, layer, logger, signal: stopping.signal, stats: workerStats });
  });
  const leases = options.tasks.length > 0 ? leasesOf(layer, logger) : null;
  const holder = crypto.randomUUID();
  const runners = options.tasks.map((task) => {
    const runner = new TaskRunner({
      task,
      context: { layer, logger },
      leases: leases!,
      holder,
      clock: options.clock ?? systemClock,
      logger,
    });
    stats.tasks.set(task.name, runner.stats);
    runner.start();
    return runner;
  });
  return {
    stats,
    async stop() {
      stopping.abort();
      await Promise.all([...loops, ...runners.map((runner) => runner.stop())]);
    },
  };
}

/** Lines for the startup banner: each worker's channel and each task's interval. */
export function describeBackground(workers: WorkerRoute[], tasks: TaskDefinition[]): string {
  const lines = [
    ...workers.map(({ file, channel }) => `  worker  ${channel.padEnd(30)} ${file}`),
    ...tasks.map(({ name, everyMs }) => `  task    ${`every ${everyMs / 1000} s`.padEnd(30)} tasks/${name}`),
  ];
  return lines.length > 0 ? `\n${lines.join("\n")}` : "";
}
