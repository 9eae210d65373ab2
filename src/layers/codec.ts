/**
 * How a message crosses processes when JSON cannot carry it exactly (the Redis backplanes send
 * the rest as JSON, redis-entries.ts), and always to and from channels_redis: msgpack, as
 * channels_redis writes it, so bytes stay bytes
 * (apart from strings), nested maps and arrays survive, and integers past 2^53 travel as bigint.
 * `undefined` arrives as `null`. What else a message may hold is checked before it gets here
 * (`assertMessage` in rules.ts), the same for every layer.
 */
import { Decoder, Encoder } from "@msgpack/msgpack";
import { InvalidMessageError } from "../errors.ts";
import type { Message } from "./layer.ts";
import { assertMessage } from "./rules.ts";

// One encoder and decoder per process: they keep buffers and a key cache between calls.
// useBigInt64: a bigint travels as a 64-bit integer and comes back a bigint; a number stays a number.
const encoder = new Encoder({ useBigInt64: true, ignoreUndefined: false });
const decoder = new Decoder({ useBigInt64: true });

/** A message as msgpack bytes; throws `InvalidMessageError` for what msgpack cannot carry. */
export function encodeMessage(message: Message): Uint8Array {
  return encodeMessageView(message).slice();
}

/**
 * Like `encodeMessage`, but a view of the encoder's own buffer, valid until the next encode: for
 * callers that turn it into something else at once (it saves a copy on every send).
 */
export function encodeMessageView(message: Message): Uint8Array {
  try {
    return encoder.encodeSharedRef(message);
  } catch (error) {
    throw new InvalidMessageError(
      `A layer message must hold plain data (objects, arrays, strings, numbers, bigints, booleans, null, bytes, dates): ${(error as Error).message}`,
      { cause: error },
    );
  }
}

/** The message in msgpack `bytes`; throws if they do not hold a message. */
export function decodeMessage(bytes: Uint8Array): Message {
  const value = decoder.decode(bytes);
  assertMessage(value);
  return value;
}

/**
 * A deep copy of a message `assertMessage` accepted, or one `decodeMessage` returned: plain
 * objects, arrays, primitives, bytes and dates only, so this is exact, and several times cheaper
 * than `structuredClone` or decoding again. Bytes come back as a plain `Uint8Array` of their own.
 */
export function copyMessage<T>(value: T): T {
  if (typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) return value.map(copyMessage) as T;
  if (value instanceof Uint8Array) return new Uint8Array(value) as T;
  if (value instanceof Date) return new Date(value.getTime()) as T;
  const copy: Record<string, unknown> = {};
  // for-in rather than Object.keys: no array per copy, and this runs once per member of a group message.
  for (const key in value) {
    if (Object.hasOwn(value, key)) copy[key] = copyMessage((value as Record<string, unknown>)[key]);
  }
  return copy as T;
}
