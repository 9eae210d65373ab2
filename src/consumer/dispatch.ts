/**
 * Message type -> handler method, with the guard Channels lacks: only methods the user's own
 * classes declare can be reached. `group_send({ type: "close" })` reaches Channels' base
 * `close()`; here it is refused, as is anything from the framework, `Object.prototype`, or a type
 * starting with `_` or `.`.
 *
 * The rule: split the type on `.` and `_`, keep the first part, capitalise the first letter of
 * each later part, join: `chat.message` -> `chatMessage`, `user.joined_room` -> `userJoinedRoom`,
 * `a.b_c` -> `aBC`. Parts are letters and digits; empty parts (`a..b`, `a.`) are refused.
 */
import { DispatchError } from "../errors.ts";

const TYPE = /^[A-Za-z][A-Za-z0-9]*(?:[._][A-Za-z0-9]+)*$/;

/** The handler method name for a message type, or a `DispatchError` saying why there is none. */
export function handlerName(type: unknown): string {
  if (typeof type !== "string" || !TYPE.test(type)) {
    throw new DispatchError(
      "INVALID_TYPE",
      `Invalid message type ${JSON.stringify(type)}: a type is dot- or underscore-separated parts of ` +
        "letters and digits, starting with a letter (chat.message).",
    );
  }
  return type.replace(/[._]([A-Za-z0-9])/g, (_match, letter: string) => letter.toUpperCase());
}

/** Prototypes of the framework's own classes: nothing on them is a handler. */
const frameworkPrototypes = new Set<object>();

/** Marks a framework base class: its methods (and those of its bases) are never message handlers. */
export function registerFrameworkClass(base: abstract new (...args: never[]) => unknown): void {
  frameworkPrototypes.add(base.prototype);
}

// Resolved handlers per class and type: the prototype walk runs once per pair, not per message.
const cache = new WeakMap<object, Map<string, string>>();

/**
 * The method a consumer declares for `type` (unbound: call it with the consumer as `this`). Walks the instance's own classes up to the first
 * framework class; a name that any framework class defines is refused even if the user overrides it.
 */
export function resolveHandler(consumer: object, type: unknown): (message: unknown) => unknown {
  const prototype = Object.getPrototypeOf(consumer) as object;
  let byType = cache.get(prototype);
  if (!byType) {
    byType = new Map();
    cache.set(prototype, byType);
  }
  let name = byType.get(type as string);
  if (name === undefined) {
    name = findHandler(prototype, type);
    byType.set(type as string, name);
  }
  return (consumer as Record<string, unknown>)[name] as (message: unknown) => unknown;
}

function findHandler(prototype: object, type: unknown): string {
  const name = handlerName(type);
  const className = (prototype.constructor as { name?: string }).name ?? "consumer";
  for (let base: object | null = prototype; base; base = Object.getPrototypeOf(base)) {
    if (frameworkPrototypes.has(base) && name in base) {
      throw new DispatchError(
        "INVALID_TYPE",
        `Message type "${type}" maps to ${name}(), which the framework defines; messages cannot call it.`,
      );
    }
  }
  for (
    let own: object | null = prototype;
    own && !frameworkPrototypes.has(own);
    own = Object.getPrototypeOf(own)
  ) {
    const descriptor = Object.getOwnPropertyDescriptor(own, name);
    if (descriptor && typeof descriptor.value === "function" && name !== "constructor") return name;
  }
  throw new DispatchError("NO_HANDLER", `${className} has no handler ${name}() for message type "${type}".`);
}
