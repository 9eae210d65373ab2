/**
 * The channel layer: the interface every layer implements, with Channels' methods and semantics,
 * and the two optional capabilities a layer may add: local delivery (`listen`) and a status.
 */
import { LayerUnavailableError } from "../errors.ts";

/** A message on the layer: an object whose `type` picks the consumer handler it reaches. */
export interface Message {
  type: string;
  [key: string]: unknown;
}

/** A map from message type to the fields of that message: `{ "chat.message": { text: string } }`. */
export type MessageMap = Record<string, object>;

/**
 * The messages a map allows: `{ type: "chat.message", text: string } | ...`. The default, untyped
 * map allows any `Message`.
 */
export type MessageOf<M extends MessageMap> = string extends keyof M
  ? Message
  : { [K in keyof M & string]: { type: K } & M[K] }[keyof M & string];

/**
 * A channel layer (Channels' `BaseChannelLayer`, camelCased). `M` narrows what `send` and
 * `groupSend` accept, so a misspelled `type` or a missing field fails type checking.
 */
export interface ChannelLayer<M extends MessageMap = MessageMap> {
  /** Sends to one channel; throws `ChannelFull` when it holds `capacity` undelivered messages. */
  send(channel: string, message: MessageOf<M>): Promise<void>;
  /** Waits for the next message on a channel (workers, tests); `signal` cancels the wait. */
  receive(channel: string, options?: { signal?: AbortSignal }): Promise<Message>;
  /** A new, unique channel name that only this process receives on. */
  newChannel(prefix?: string): Promise<string>;
  groupAdd(group: string, channel: string): Promise<void>;
  groupDiscard(group: string, channel: string): Promise<void>;
  /** Sends to every channel of a group; members that are full are skipped, not failed. */
  groupSend(group: string, message: MessageOf<M>): Promise<void>;
  /** Drops every message and membership. */
  flush(): Promise<void>;
  /** Releases connections and timers; the layer cannot be used afterwards. */
  close(): Promise<void>;
}

/**
 * Where a layer pushes messages for a channel whose consumer lives in this process: the direct
 * delivery path (no polling, no `receive()` promise per message).
 */
export interface ChannelSink {
  /**
   * Takes a message for this channel. The object may be shared with the other members of a group
   * and must not be changed: the sink copies it (`copyMessage`) before any handler sees it.
   */
  push(message: Message): void;
  /** Messages pushed but not yet handled; `send` compares it with the channel's capacity. */
  readonly backlog: number;
  /**
   * Optional: the runtime's fan-out that already reaches this channel's client with `type`
   * messages sent to `group` (a native publish), or null. The hub skips such members and hands the
   * message to each fan-out once.
   */
  fanOutFor?(group: string, type: string): FanOut | null;
  /** Optional: this channel was taken out of `group` by the layer (a leave, a flush). */
  left?(group: string): void;
}

/** A runtime's one-call delivery of a group message to every socket subscribed to it. */
export interface FanOut {
  /** Delivers `message` to the subscribed sockets of `group`; `members` of them were skipped by the hub. */
  publish(group: string, message: Message, members: number): void;
}

/**
 * Optional capability: push a local channel's messages straight into a sink. Connection runners
 * use it when the layer has it, and a `receive()` loop otherwise.
 */
export interface LocalDelivery {
  /** Pushes the messages of a local channel into `sink`. */
  listen(channel: string, sink: ChannelSink): void;
  /**
   * Stops `sink` listening, if it still does; the channel goes with whatever was addressed to it.
   * (A method, not a handle `listen` returns: an idle connection would keep that closure.)
   */
  unlisten(channel: string, sink: ChannelSink): void;
}

/** Whether a layer can reach its backend: `connecting` until it first could, then `up` or `down`. */
export type LayerStatus = "connecting" | "up" | "down";

/** Optional capability: a layer with a backend that can be away reports whether it is reachable. */
export interface StatusReporting {
  readonly status: LayerStatus;
  /** Calls `listener` on every status change; returns the way to stop. */
  onStatus(listener: (status: LayerStatus) => void): () => void;
}

/** Whether `layer` can push into sinks (and stop: a layer with `listen` alone gets a receive loop). */
export function canListen(layer: ChannelLayer): layer is ChannelLayer & LocalDelivery {
  const local = layer as Partial<LocalDelivery>;
  return typeof local.listen === "function" && typeof local.unlisten === "function";
}

/** Whether `layer` reports a status. */
export function reportsStatus(layer: object): layer is StatusReporting {
  return typeof (layer as Partial<StatusReporting>).onStatus === "function";
}

/** The status of any layer: a layer with no backend to lose (the memory layer) is always `up`. */
export function layerStatus(layer: object): LayerStatus {
  return reportsStatus(layer) ? layer.status : "up";
}

/** Options every layer understands. */
export interface LayerOptions {
  /** Undelivered messages a channel may hold before `send` throws `ChannelFull`. Default 100. */
  capacity?: number;
  /** Per-channel capacities by name pattern, `*` matching any run of characters: `{ "worker.*": 1000 }`. */
  channelCapacity?: Record<string, number>;
  /** Seconds an undelivered message is kept. Default 60. */
  expiry?: number;
  /** Seconds a group membership lasts unless renewed by another `groupAdd`. Default 86,400. */
  groupExpiry?: number;
}

/** Channels' defaults. */
export const LAYER_DEFAULTS = { capacity: 100, expiry: 60, groupExpiry: 86_400 } as const;

/**
 * Resolves once `source` is up; rejects with `LayerUnavailableError` after `timeoutMs`. A layer
 * without a status is always up.
 */
export function waitUntilUp(source: object, timeoutMs = 5000): Promise<void> {
  if (!reportsStatus(source) || source.status === "up") return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stop();
      reject(new LayerUnavailableError(new Error(`not up within ${timeoutMs} ms`)));
    }, timeoutMs);
    const stop = source.onStatus((status) => {
      if (status !== "up") return;
      clearTimeout(timer);
      stop();
      resolve();
    });
  });
}
