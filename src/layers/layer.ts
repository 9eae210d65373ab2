/**
 * The channel layer: the one interface every backend implements (memory.ts, redis.ts), its
 * message types, naming rules and defaults. Names and semantics follow Django Channels.
 */
import { InvalidMessageError, InvalidNameError, LayerUnavailableError } from "../errors.ts";

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
 * Where a layer pushes messages for a channel whose consumer lives in this process: the direct
 * delivery path (no polling, no `receive()` promise per message).
 */
export interface ChannelSink {
  push(message: Message): void;
  /** Messages pushed but not yet handled; `send` compares it with the channel's capacity. */
  readonly backlog: number;
}

/** Whether a layer can reach its backend: the memory layer is always `up`. */
export type LayerStatus = "connecting" | "up" | "down";

/**
 * A channel layer. `M` narrows what `send` and `groupSend` accept, so a misspelled `type` or a
 * missing field fails type checking.
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
  /** Pushes the messages of a local channel straight into `sink`; returns the way to stop. */
  listen(channel: string, sink: ChannelSink): () => void;
  /** Drops every message and membership. */
  flush(): Promise<void>;
  /** Whether the backend is reachable now. */
  readonly status: LayerStatus;
  /** Calls `listener` on every status change (Redis going down or coming back); returns the way to stop. */
  onStatus(listener: (status: LayerStatus) => void): () => void;
  /** Releases connections and timers; the layer cannot be used afterwards. */
  close(): Promise<void>;
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

/** Longest name allowed is 99 characters (Channels: "less than 100"). */
export const MAX_NAME_LENGTH = 99;
// Channels' rules: ASCII letters, digits, hyphen, underscore and period; a channel name may end in
// `!` and a process-local suffix, which only the process that created it receives on.
const CHANNEL_NAME = /^[a-zA-Z\d\-_.]+(![\d\w\-_.]*)?$/;
const GROUP_NAME = /^[a-zA-Z\d\-_.]+$/;

/** Throws `InvalidNameError` (code INVALID_CHANNEL_NAME) unless `name` is a valid channel name. */
export function assertChannelName(name: unknown): asserts name is string {
  assertName(
    "channel",
    name,
    CHANNEL_NAME,
    "ASCII letters, digits, -, _ and ., optionally ending in ! and a suffix",
  );
}

/** Throws `InvalidNameError` (code INVALID_GROUP_NAME) unless `name` is a valid group name. */
export function assertGroupName(name: unknown): asserts name is string {
  assertName("group", name, GROUP_NAME, "ASCII letters, digits, -, _ and . only");
}

function assertName(kind: "channel" | "group", name: unknown, pattern: RegExp, allowed: string): void {
  if (typeof name !== "string" || name.length === 0) {
    throw new InvalidNameError(kind, String(name), "a name is a non-empty string");
  }
  if (name.length > MAX_NAME_LENGTH) {
    throw new InvalidNameError(
      kind,
      name,
      `${name.length} characters; at most ${MAX_NAME_LENGTH} are allowed`,
    );
  }
  if (!pattern.test(name)) throw new InvalidNameError(kind, name, `use ${allowed}`);
}

/** Throws `InvalidMessageError` unless `message` is a plain object with a non-empty string `type`. */
export function assertMessage(message: unknown): asserts message is Message {
  if (typeof message !== "object" || message === null || Array.isArray(message)) {
    throw new InvalidMessageError(`A layer message is an object with a "type"; got ${typeof message}.`);
  }
  const { type } = message as { type?: unknown };
  if (typeof type !== "string" || type === "") {
    throw new InvalidMessageError('A layer message needs a non-empty string "type", such as "chat.message".');
  }
}

/** Compiles `channelCapacity` patterns once; returns the capacity lookup for a channel name. */
export function capacityLookup(options: LayerOptions): (channel: string) => number {
  const fallback = options.capacity ?? LAYER_DEFAULTS.capacity;
  const rules = Object.entries(options.channelCapacity ?? {}).map(([pattern, capacity]) => {
    const source = pattern
      .split("*")
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
      .join(".*");
    return { regex: new RegExp(`^${source}$`), capacity };
  });
  if (rules.length === 0) return () => fallback;
  return (channel) => rules.find((rule) => rule.regex.test(channel))?.capacity ?? fallback;
}

/** Resolves once `layer` is up; rejects with `LayerUnavailableError` after `timeoutMs`. */
export function waitUntilUp(layer: ChannelLayer, timeoutMs = 5000): Promise<void> {
  if (layer.status === "up") return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stop();
      reject(new LayerUnavailableError(new Error(`not up within ${timeoutMs} ms`)));
    }, timeoutMs);
    const stop = layer.onStatus((status) => {
      if (status !== "up") return;
      clearTimeout(timer);
      stop();
      resolve();
    });
  });
}
