/**
 * channels_redis's wire format, byte for byte: a stored message is 12 random bytes (so equal
 * messages stay distinct members of a sorted set) followed by the msgpack of the message dict,
 * Fernet-encrypted when keys are set. `__asgi_channel__` names the destination: a string for a
 * `send` to a process channel, a list for a `group_send`.
 *
 * Numbers follow Python's types rather than JavaScript's: an exact integer number (|n| <= 2^53)
 * travels as a msgpack integer (an `int` in Python, not a `float`), and an integer Python sends
 * comes back a number while it is safe, a bigint past that. Dates are refused.
 */
import { randomBytes } from "node:crypto";
import { InvalidMessageError } from "../../errors.ts";
import { decodeMessage, encodeMessage } from "../codec.ts";
import type { Message } from "../layer.ts";
import type { Fernet } from "./fernet.ts";

/** Where channels_redis puts the destination channel(s) in a stored message. */
export const ASGI_CHANNEL = "__asgi_channel__";
const RANDOM_PREFIX_BYTES = 12;
const INT32_MIN = -(2 ** 31);
const UINT32_MAX = 2 ** 32 - 1;

/** How one deployment writes and reads messages: encrypted or not, and for how long they are readable. */
export interface Wire {
  fernet: Fernet | null;
  /** Python decrypts with a TTL of the expiry plus 10 seconds; so do we. */
  expirySeconds: number;
}

/** The stored form of `message` for `destination` (a channel, or the channels sharing one key). */
export function serialize(wire: Wire, message: Message, destination: string | string[]): Buffer {
  const packed = encodeMessage(pythonIntegers({ ...message, [ASGI_CHANNEL]: destination }) as Message);
  const body = wire.fernet ? wire.fernet.encrypt(packed) : packed;
  return Buffer.concat([randomBytes(RANDOM_PREFIX_BYTES), body]);
}

/** A stored message and the channels it is for (none if it carries no `__asgi_channel__`). */
export function deserialize(wire: Wire, stored: Uint8Array): { message: Message; channels: string[] } {
  let body = stored.subarray(RANDOM_PREFIX_BYTES);
  if (wire.fernet) body = wire.fernet.decrypt(body, wire.expirySeconds + 10);
  const message = safeNumbers(decodeMessage(body)) as Message;
  const destination = message[ASGI_CHANNEL];
  delete message[ASGI_CHANNEL];
  const channels = destination === undefined ? [] : Array.isArray(destination) ? destination : [destination];
  if (!channels.every((channel) => typeof channel === "string")) {
    throw new InvalidMessageError(`${ASGI_CHANNEL} must be a channel name or a list of them.`);
  }
  return { message, channels: channels as string[] };
}

/** Refuses a message that names its own destination: that key is the wire's (as in channels_redis). */
export function assertNoDestination(message: Message): void {
  if (ASGI_CHANNEL in message) {
    throw new InvalidMessageError(`A message must not hold the key ${ASGI_CHANNEL}: the layer sets it.`);
  }
}

/**
 * The codec writes integer numbers past 32 bits as floats (so that bigints, written as 64-bit
 * integers, come back bigints); Python must see integers. Only exact integers are rewritten (up to
 * 2^53): a larger number is not known to be an integer any more and stays a float. A `Date`
 * would reach Python as a msgpack Timestamp, which Django cannot turn into JSON: refused.
 */
function pythonIntegers(value: unknown): unknown {
  if (typeof value === "number") {
    return Number.isSafeInteger(value) && (value < INT32_MIN || value > UINT32_MAX) ? BigInt(value) : value;
  }
  if (value instanceof Date) {
    throw new InvalidMessageError(
      "A Date cannot cross to Django (it would arrive as a msgpack Timestamp): send an ISO string or epoch milliseconds.",
    );
  }
  return mapContainers(value, pythonIntegers);
}

/** Python writes every integer past 32 bits as a 64-bit integer, which the codec reads as a bigint. */
function safeNumbers(value: unknown): unknown {
  if (typeof value === "bigint") {
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(value)
      : value;
  }
  return mapContainers(value, safeNumbers);
}

/** `value` with `convert` applied to each element of its arrays and plain objects. */
function mapContainers(value: unknown, convert: (value: unknown) => unknown): unknown {
  if (Array.isArray(value)) return value.map(convert);
  if (typeof value !== "object" || value === null || value instanceof Uint8Array || value instanceof Date) {
    return value;
  }
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) copy[key] = convert(item);
  return copy;
}
