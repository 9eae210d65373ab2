/**
 * How the Redis backplane writes a message: msgpack (codec.ts) in base64, so every command stays a
 * plain string. ioredis builds a command with a binary argument through a slower buffer path:
 * 32 concurrent `send`s ran at 37k/s with the msgpack bytes as a Buffer against 49k/s as base64
 * and 52k/s for the former JSON (same run, bench notes in bench/README.md).
 *
 * List entries (plain channels, process inboxes) are `<expires-at-ms>:<channel>:<base64>`: the
 * head lets a Lua script read the expiry with a pattern match and build an entry by
 * concatenation; channel names never hold `:`. A pub/sub payload is the base64 part alone.
 */
import { Buffer } from "node:buffer";
import { decodeMessage, encodeMessageView } from "../codec.ts";
import type { Message } from "../layer.ts";

/** One decoded list entry. */
export interface Entry {
  expiresAt: number;
  channel: string;
  message: Message;
}

/** A message as the backplane sends it. */
export function toWire(message: Message): string {
  const bytes = encodeMessageView(message);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

/** The message in a payload from `toWire`; throws if it holds none. */
export function fromWire(payload: string): Message {
  // Into memory of its own, not Buffer's shared pool: decoded bytes fields are views of it.
  const bytes = new Uint8Array(Buffer.byteLength(payload, "base64"));
  const written = Buffer.from(bytes.buffer).write(payload, "base64");
  return decodeMessage(bytes.subarray(0, written));
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
