/**
 * `Worker`: a consumer bound to a channel name instead of a URL, as Channels' `ChannelNameRouter`
 * with `runworker`. A file `workers/thumbnails.ts` default-exports a `Worker` class; every message
 * any process `send`s to the channel `thumbnails` reaches the method named after its type
 * (`thumbnail.make` -> `thumbnailMake`), one message at a time. Several processes running the same
 * worker on the Redis layer compete: each message is handled once.
 */
import { registerFrameworkClass } from "../consumer/dispatch.ts";
import { ConsumerStateError } from "../errors.ts";
import type { ChannelLayer, MessageMap } from "../layers/layer.ts";
import type { Logger } from "../log.ts";

/** What a running worker can reach. */
export interface WorkerContext {
  /** The channel this worker consumes (its file's path: `workers/jobs/resize.ts` -> `jobs.resize`). */
  readonly channelName: string;
  readonly channelLayer: ChannelLayer;
  readonly logger: Logger;
}

const contexts = new WeakMap<object, WorkerContext>();

/** @internal The worker loop links each worker to its context once. */
export function bindWorker(worker: object, context: WorkerContext): void {
  contexts.set(worker, context);
}

/**
 * Base class of workers. `Events` maps the message types this worker sends on, so `groupSend` and
 * `send` through `channelLayer` can be typed by the caller.
 * @example
 * export default class Thumbnails extends Worker {
 *   async thumbnailMake(message: { type: "thumbnail.make"; id: string }) { ... }
 * }
 */
export class Worker<Events extends MessageMap = MessageMap> {
  /** The channel this worker consumes. */
  get channelName(): string {
    return contextOf(this).channelName;
  }

  /** The process's channel layer: answer with `send`, tell a room with `groupSend`. */
  get channelLayer(): ChannelLayer<Events> {
    return contextOf(this).channelLayer as unknown as ChannelLayer<Events>;
  }

  /** The server's logger. */
  get logger(): Logger {
    return contextOf(this).logger;
  }
}
registerFrameworkClass(Worker);

function contextOf(worker: object): WorkerContext {
  const context = contexts.get(worker);
  if (!context) {
    throw new ConsumerStateError(
      `${worker.constructor.name} is not running. Workers are started by the server or the worker command, not with new.`,
    );
  }
  return context;
}

/** A worker class, as a `workers/` file default-exports it. */
export type WorkerClass = new () => Worker;

/** Whether `value` is a class extending `Worker`. */
export function isWorkerClass(value: unknown): value is WorkerClass {
  return typeof value === "function" && value.prototype instanceof Worker;
}
