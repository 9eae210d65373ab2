/**
 * The layer's rules, shared by the hub and every backplane: what a channel name, a group name and
 * a message may be (Channels' rules), and which capacity a channel has.
 */
import { InvalidMessageError, InvalidNameError } from "../errors.ts";
import { LAYER_DEFAULTS, type LayerOptions, type Message } from "./layer.ts";

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

/** How deep a message may nest. Deeper ones are refused at send time, before any member has to encode one. */
export const MAX_MESSAGE_DEPTH = 64;

/**
 * Throws `InvalidMessageError` unless `message` is a plain object with a non-empty string `type`
 * holding only what every layer carries the same way: plain objects and arrays, strings, numbers,
 * bigints, booleans, null, undefined, `Uint8Array` bytes and dates, nested at most
 * `MAX_MESSAGE_DEPTH` deep. A function, a symbol, a `Map`, a class instance, a cycle or a
 * `__proto__` key is refused by the memory layer and Redis alike.
 */
export function assertMessage(message: unknown): asserts message is Message {
  if (typeof message !== "object" || message === null || Array.isArray(message)) {
    throw new InvalidMessageError(`A layer message is an object with a "type"; got ${typeof message}.`);
  }
  const { type } = message as { type?: unknown };
  if (typeof type !== "string" || type === "") {
    throw new InvalidMessageError('A layer message needs a non-empty string "type", such as "chat.message".');
  }
  const problem = problemIn(message, 1);
  if (problem) throw new InvalidMessageError(`message${problem.path} ${problem.reason}`);
}

/** What is wrong with a value a message holds, and where (`.list[2]`, relative to that value). */
type Problem = { path: string; reason: string };

/**
 * Why `value` cannot travel in a message, or null if it can. The path is built only on the way back
 * from a problem: a message that is fine costs no string per key. Recursion is bounded by
 * MAX_MESSAGE_DEPTH, so a cycle or a hostile nesting cannot exhaust the stack.
 */
function problemIn(value: unknown, depth: number): Problem | null {
  switch (typeof value) {
    case "string":
    case "number":
    case "bigint":
    case "boolean":
    case "undefined":
      return null;
    case "function":
    case "symbol":
      return { path: "", reason: `is a ${typeof value}, which a layer message cannot hold.` };
  }
  if (value === null || value instanceof Uint8Array || value instanceof Date) return null;
  if (depth > MAX_MESSAGE_DEPTH) {
    return {
      path: "",
      reason: `nests deeper than ${MAX_MESSAGE_DEPTH} levels (or refers to itself); members could not encode it.`,
    };
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const problem = problemIn(value[i], depth + 1);
      if (problem) return { path: `[${i}]${problem.path}`, reason: problem.reason };
    }
    return null;
  }
  const prototype = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) {
    const kind = (value as object).constructor?.name ?? "object";
    return { path: "", reason: `is a ${kind}; send plain objects, arrays and values.` };
  }
  for (const key in value as object) {
    if (!Object.hasOwn(value as object, key)) continue;
    if (key === "__proto__") return { path: "", reason: 'has a "__proto__" key, which is refused.' };
    const problem = problemIn((value as Record<string, unknown>)[key], depth + 1);
    if (problem) return { path: `.${key}${problem.path}`, reason: problem.reason };
  }
  return null;
}

/** The process part of a `name.<process>!id` channel, or null for a plain channel. */
export function processOf(channel: string): string | null {
  return /([^.]+)!/.exec(channel)?.[1] ?? null;
}

/** A `channelCapacity` glob (`worker.*`) as an anchored regular expression source. */
function globToRegExp(glob: string): RegExp {
  const source = glob
    .split("*")
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
    .join(".*");
  return new RegExp(`^${source}$`);
}

/** Compiles `channelCapacity` patterns once; returns the capacity lookup for a channel name. */
export function capacityLookup(options: LayerOptions): (channel: string) => number {
  const fallback = options.capacity ?? LAYER_DEFAULTS.capacity;
  const rules = Object.entries(options.channelCapacity ?? {}).map(([glob, capacity]) => ({
    regex: globToRegExp(glob),
    capacity,
  }));
  if (rules.length === 0) return () => fallback;
  return (channel) => rules.find((rule) => rule.regex.test(channel))?.capacity ?? fallback;
}
