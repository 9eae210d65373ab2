/**
 * Entries of the Redis backplane's lists (plain channels and process inboxes):
 * `<expires-at-ms>:<channel>:<msgpack message>`. The ASCII head lets a Lua script read the expiry
 * and build an entry by concatenation; channel names never hold `:`.
 */

import { decodeMessage } from "../codec.ts";
import type { Message } from "../layer.ts";

const COLON = 0x3a;
const encoder = new TextEncoder();

/** One decoded list entry. */
export interface Entry {
  expiresAt: number;
  channel: string;
  message: Message;
}

/** An entry for `channel`, holding already-encoded message bytes. */
export function encodeEntry(expiresAt: number, channel: string, message: Uint8Array): Uint8Array {
  const head = encoder.encode(`${expiresAt}:${channel}:`);
  const entry = new Uint8Array(head.byteLength + message.byteLength);
  entry.set(head);
  entry.set(message, head.byteLength);
  return entry;
}

/** Reads an entry; throws on bytes that are not one. */
export function decodeEntry(entry: Uint8Array): Entry {
  const first = entry.indexOf(COLON);
  const second = first < 0 ? -1 : entry.indexOf(COLON, first + 1);
  if (second < 0) throw new Error("not a layer entry (no <expires>:<channel>: head)");
  const text = new TextDecoder();
  const expiresAt = Number(text.decode(entry.subarray(0, first)));
  if (!Number.isFinite(expiresAt)) throw new Error("not a layer entry (bad expiry)");
  return {
    expiresAt,
    channel: text.decode(entry.subarray(first + 1, second)),
    message: decodeMessage(entry.subarray(second + 1)),
  };
}
