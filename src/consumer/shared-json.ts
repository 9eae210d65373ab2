/**
 * One JSON encoding per group message. Each member of a room gets its own copy of a message, and
 * a relay handler (`return this.sendJson(event)`) encodes that copy: the same text once per
 * member. When the object handed to `sendJson` is the copy its handler was just given, unchanged
 * and flat (same keys in the same order, every value the same primitive), its text is the text of
 * the message it was copied from: encoded on the first member's turn and kept on that message.
 * Anything else (a changed copy, nested values, another object) is encoded as it is.
 */
import type { Message } from "../layers/layer.ts";

const TEXT = Symbol("json text");
const KEYS = Symbol("keys");

/** A message the hub shares between members; the two fields are invisible to copies and to JSON. */
type Source = Message & { [TEXT]?: string; [KEYS]?: string[] };

let lastCopy: object | null = null;
let lastSource: Source | null = null;

/** The dispatcher hands `copy` of `source` to a handler now. */
export function noteCopy(copy: object, source: Message): void {
  lastCopy = copy;
  lastSource = source;
}

/** The JSON text of `data` if it is the copy just handed to a handler, unchanged and flat; else undefined. */
export function sharedJson(data: unknown): string | undefined {
  if (data !== lastCopy || lastSource === null) return undefined;
  const source = lastSource;
  source[KEYS] ??= Object.keys(source);
  const keys = source[KEYS];
  let i = 0;
  for (const key in data as Record<string, unknown>) {
    const value = (data as Record<string, unknown>)[key];
    if (key !== keys[i++] || value !== source[key] || (typeof value === "object" && value !== null)) {
      return undefined;
    }
  }
  if (i !== keys.length) return undefined;
  source[TEXT] ??= JSON.stringify(source);
  return source[TEXT];
}
