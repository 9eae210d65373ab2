/**
 * Runs one worker: `receive()` on its channel, dispatch by type, one message at a time, until
 * stopped. A handler that throws or a message with no handler is logged and the loop goes on; a
 * layer that is away is waited for. Stopping lets the message in hand finish, and leaves queued
 * ones where they are (the Redis layer puts back one it popped while being stopped).
 */
import { resolveHandler } from "../consumer/dispatch.ts";
import { LayerClosedError } from "../errors.ts";
import type { ChannelLayer, Message } from "../layers/layer.ts";
import { type Logger, throttledWarning } from "../log.ts";
import { sleep } from "./clock.ts";
import { bindWorker, type WorkerClass } from "./worker.ts";

/** How long to wait before receiving again after the layer failed. */
const RETRY_MS = 1000;

/** What the loop counts, for metrics. */
export interface WorkerStats {
  handled: number;
  failed: number;
}

/** Options of one worker loop. */
export interface WorkerLoopOptions {
  channel: string;
  layer: ChannelLayer;
  logger: Logger;
  /** Ends the loop after the message in hand. */
  signal: AbortSignal;
  stats?: WorkerStats;
}

/** Consumes `channel` with a new instance of `WorkerClass` until `signal` aborts or the layer closes. */
export async function runWorker(WorkerClass: WorkerClass, options: WorkerLoopOptions): Promise<void> {
  const { channel, layer, logger, signal, stats } = options;
  let worker: InstanceType<WorkerClass>;
  try {
    worker = new WorkerClass();
  } catch (error) {
    // Its channel's messages stay queued for a worker that can start (another process, a fix).
    logger.error(`worker ${channel}: could not be created; not consuming`, { error });
    return;
  }
  bindWorker(worker, { channelName: channel, channelLayer: layer, logger });
  const warnAway = throttledWarning(logger, Date.now, 10_000);
  while (!signal.aborted) {
    let message: Message;
    try {
      message = await layer.receive(channel, { signal });
    } catch (error) {
      if (signal.aborted || error instanceof LayerClosedError) return;
      warnAway((times) => `worker ${channel}: cannot receive (${times}x): ${(error as Error).message}`);
      await sleep(RETRY_MS, signal);
      continue;
    }
    try {
      await resolveHandler(worker, message.type).call(worker, message);
      if (stats) stats.handled++;
    } catch (error) {
      if (stats) stats.failed++;
      logger.error(`worker ${channel}: ${String(message.type)} failed`, { error });
    }
  }
}
