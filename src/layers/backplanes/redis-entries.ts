/**
 * How the Redis backplane writes a message. A message JSON carries exactly (plain objects, arrays,
 * strings, booleans, null, finite numbers: most messages) goes as its JSON text; any other as
 * msgpack (codec.ts) in base64, so every command stays a plain string. ioredis builds a command
 * with a binary argument through a slower buffer path: 32 concurrent `send`s ran at 37k/s with the
 * msgpack bytes as a Buffer against 49k/s as base64 (same run, bench notes in bench/README.md).
 * A payload says which it is by its first character: a JSON message starts with `{`, which base64
 * never holds. JSON is the common case because it is several times cheaper on both ends (Bun,
 * a chat message: 0.2 µs to check and encode and 0.15 µs to decode, against 0.55 µs and 2.2 µs).
 * Neither form holds a newline, which lets a group-send batch separate payloads with one.
 *
 * List entries (plain channels, process inboxes) are `<expires-at-ms>:<channel>:<payload>`: the
 * head lets a Lua script read the expiry with a pattern match and build an entry by
 * concatenation; channel names never hold `:`. A pub/sub payload is the payload alone.
 *
 * Every process of a deployment must read the same forms: a process from before the JSON form
 * (commit a58b184 and earlier) cannot read it, and one up to 3376a7e reads a run of pub/sub
 * payloads published together (redis-scripts.ts) as one unreadable payload. Upgrade them all
 * together.
 */
import { Buffer } from "node:buffer";
import { decodeMessage, encodeMessageView } from "../codec.ts";
import type { Message } from "../layer.ts";
import { assertMessage } from "../rules.ts";

/** One decoded list entry. */
export interface Entry {
  expiresAt: number;
  channel: string;
  message: Message;
}

/** A message as the backplane sends it. */
export function toWire(message: Message): string {
  if (jsonExact(message)) return JSON.stringify(message);
  const bytes = encodeMessageView(message);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

/** The message in a payload from `toWire`; throws if it holds none. */
export function fromWire(payload: string): Message {
  if (payload.charCodeAt(0) === OPEN_BRACE) {
    const message: unknown = JSON.parse(payload);
    assertMessage(message);
    return message;
  }
  // Into memory of its own, not Buffer's shared pool: decoded bytes fields are views of it.
  const bytes = new Uint8Array(Buffer.byteLength(payload, "base64"));
  const written = Buffer.from(bytes.buffer).write(payload, "base64");
  return decodeMessage(bytes.subarray(0, written));
}

const OPEN_BRACE = 0x7b;

/**
 * Whether JSON gives `value` back exactly: not bytes, dates, bigints or `undefined` (which msgpack
 * keeps as they are, or as `null`), nor NaN or the infinities (which JSON turns into null).
 */
function jsonExact(value: unknown): boolean {
  switch (typeof value) {
    case "string":
    case "boolean":
      return true;
    case "number":
      return Number.isFinite(value); // -0 arrives as 0 either way
    case "object": {
      if (value === null) return true;
      if (Array.isArray(value)) {
        for (const item of value) if (!jsonExact(item)) return false; // a hole reads as undefined
        return true;
      }
      const prototype = Object.getPrototypeOf(value);
      if (prototype !== Object.prototype && prototype !== null) return false;
      for (const key in value) if (!jsonExact((value as Record<string, unknown>)[key])) return false;
      return true;
    }
    default:
      return false;
  }
}

/** A list entry for `channel`, holding a payload from `toWire`. */
export function encodeEntry(expiresAt: number, channel: string, payload: string): string {
  return `${expiresAt}:${channel}:${payload}`;
}

/** Reads a list entry; throws on text that is not one. */
export function decodeEntry(entry: string): Entry {
  const first = entry.indexOf(":");
  const second = first < 0 ? -1 : entry.indexOf(":", first + 1);
  if (second < 0) throw new Error("not a layer entry (no <expires>:<channel>: head)");
  const expiresAt = Number(entry.slice(0, first));
  if (!Number.isFinite(expiresAt)) throw new Error("not a layer entry (bad expiry)");
  return { expiresAt, channel: entry.slice(first + 1, second), message: fromWire(entry.slice(second + 1)) };
}
