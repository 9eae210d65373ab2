/**
 * What the fuzz run throws at the server: random text and binary, JSON bombs, prototype-pollution
 * and layer-type injection, oversized and invalid UTF-8 payloads, and the raw frame sequences that
 * break the protocol (bad fragments, opcodes, lengths and close codes).
 */
import { randomBytes } from "node:crypto";
import { wsFrame } from "./_raw-socket.ts";

/** The server's frame limit in the fuzz run; the oversized payloads are sized against it. */
export const MAX_FRAME_BYTES = 65_536;
/** The well-behaved client's name, which one hostile payload impersonates. */
export const GOOD_NAME = "goodclient";

/** One of `items`, at random. */
export const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;
/** True with probability `p`. */
export const chance = (p: number) => Math.random() < p;
const encoder = new TextEncoder();
const utf8 = (text: string) => encoder.encode(text);

const deepArrays = (levels: number) => "[".repeat(levels) + "]".repeat(levels);
const deepObjects = (levels: number) => `${'{"a":'.repeat(levels)}1${"}".repeat(levels)}`;

/**
 * Built once and reused: the test process must not spend its time building bombs. 50k levels take
 * 100 KB, over the 64 KiB frame limit (refused before parsing), so the deepest bombs that reach
 * JSON.parse are 30k levels of arrays and 10k of objects.
 */
const BOMBS: readonly string[] = [
  deepArrays(30_000), // 60 KB: under the frame limit, so it reaches JSON.parse
  deepArrays(50_000), // 100 KB: over the limit
  deepObjects(10_000), // ~60 KB of nested objects
  `{"text":${deepArrays(20_000)}}`,
  `{"type":"live.update","data":${deepObjects(8_000)}}`,
  JSON.stringify({ text: "x".repeat(60_000) }), // a huge string value under the limit
  JSON.stringify({ text: "y".repeat(200_000) }), // over the limit
  JSON.stringify({ text: "z".repeat(2001) }), // one over the chat's text limit
  JSON.stringify(Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`k${i}`, i]))),
  JSON.stringify({ text: Array.from({ length: 10_000 }, () => "a") }),
  `[${"1e999999,".repeat(5000)}0]`,
  `"${"\\u0000".repeat(10_000)}"`,
];

/**
 * Prototype pollution and layer-type injection. A `text` the client sends is data and may reach the
 * room as a chat message; an "INHERITED" text could only get there through a polluted prototype.
 */
const HOSTILE_JSON: readonly string[] = [
  '{"type":"__proto__"}',
  '{"type":"constructor"}',
  '{"type":"__proto__","text":"as-data-type"}',
  '{"__proto__":{"polluted":true}}',
  '{"__proto__":{"text":"INHERITED-proto"}}',
  '{"constructor":{"prototype":{"polluted":true,"text":"INHERITED-ctor"}}}',
  '{"text":{"__proto__":{}}}',
  '{"text":{"__proto__":{"polluted":true}}}',
  '{"text":{"toString":"INHERITED-toString"}}',
  '{"type":"chat.message","text":"x"}',
  `{"type":"chat.message","user":"${GOOD_NAME}","text":"as-data-impersonation"}`,
  '{"type":"chat.message","user":"server","text":"hello"}',
  '{"type":"live.update","topic":"t","data":1,"at":"now"}',
  '{"type":"send","text":"as-data-send"}',
  '{"type":"close","code":1000}',
  '{"type":"websocket.disconnect"}',
  '{"type":"websocket.send","text":"as-data-ws-send"}',
  '{"type":"_private"}',
  '{"type":"toString"}',
  '{"type":"hasOwnProperty"}',
  '{"type":"status"}',
  '{"type":"time"}',
  '{"type":{"__proto__":"x"}}',
  '{"type":["time"]}',
  '{"text":null}',
  '{"text":123}',
  '{"text":"   "}',
  '{"text":["a"]}',
  '{"text":"\\ud800"}',
  '{"text":"a\\u0000b"}',
  "null",
  "[]",
  "0",
  '""',
  "true",
  "{",
  '{"text":',
  '{"text":"unterminated',
  "{'text':'single quotes'}",
  "\u0000",
  "",
  "   ",
  "\uFEFF{}",
];

const CODE_POINT_RANGES: readonly [number, number][] = [
  [0x20, 0x7e],
  [0x00, 0x1f],
  [0xa0, 0x7ff],
  [0x800, 0xd7ff],
  [0xe000, 0xfffd],
  [0x10000, 0x10ffff],
];

/** Fewer than `maxLength` random code points (ASCII, controls, BMP, astral), now and then a lone surrogate. */
export function randomText(maxLength = 300): string {
  const length = Math.floor(Math.random() * maxLength);
  let text = "";
  for (let i = 0; i < length; i++) {
    if (chance(0.01)) {
      text += String.fromCharCode(0xd800 + Math.floor(Math.random() * 0x800)); // a lone surrogate
      continue;
    }
    const [low, high] = pick(CODE_POINT_RANGES);
    text += String.fromCodePoint(low + Math.floor(Math.random() * (high - low)));
  }
  return text;
}

const randomBinary = (maxLength = 2000) => new Uint8Array(randomBytes(Math.floor(Math.random() * maxLength)));

const OVERSIZED_TEXT = "o".repeat(MAX_FRAME_BYTES + 1);
const OVERSIZED_BINARY = new Uint8Array(MAX_FRAME_BYTES * 3);
/** Multi-byte characters: under the limit in UTF-16 units, over it in UTF-8 bytes. */
const OVERSIZED_UTF8 = "é".repeat(MAX_FRAME_BYTES / 2 + 1);

/** A payload any client can send: what the consumers' own code sees. */
export function messagePayload(fuzzer: string): string | Uint8Array {
  const roll = Math.random();
  if (roll < 0.25) return JSON.stringify({ text: `${fuzzer} says ${randomText(50)}` }); // valid chat
  if (roll < 0.32) return JSON.stringify({ text: randomText(100), extra: randomText(20) });
  if (roll < 0.47) return randomText();
  if (roll < 0.57) return randomBinary();
  if (roll < 0.65) return pick(BOMBS);
  if (roll < 0.68) return pick([OVERSIZED_TEXT, OVERSIZED_BINARY, OVERSIZED_UTF8]);
  return pick(HOSTILE_JSON); // the remaining 32%
}

function closePayload(code: number, reason: Uint8Array = new Uint8Array()): Uint8Array {
  const out = new Uint8Array(2 + reason.byteLength);
  out[0] = (code >> 8) & 0xff;
  out[1] = code & 0xff;
  out.set(reason, 2);
  return out;
}

const INVALID_UTF8: readonly number[][] = [
  [0xff],
  [0xfe, 0xff],
  [0xc3, 0x28], // bad continuation
  [0xc0, 0xaf], // overlong "/"
  [0xe0, 0x80, 0xaf], // overlong
  [0xed, 0xa0, 0x80], // an encoded surrogate
  [0xf4, 0x90, 0x80, 0x80], // above U+10FFFF
  [0xe2, 0x82], // truncated
  [0x80], // a lone continuation byte
];

function invalidUtf8Payload(): Uint8Array {
  const bad = pick(INVALID_UTF8);
  const before = utf8(pick(['{"text":"', "hello ", "", '{"type":"time","x":"']));
  const after = utf8(pick(['"}', " world", ""]));
  return new Uint8Array([...before, ...bad, ...after]);
}

const VALID_CLOSE_CODES = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999];
const INVALID_CLOSE_CODES = [0, 1, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65_535];

/** What a raw fuzzer writes next: the frames, and whether the server is bound to close after them. */
export interface RawStep {
  frames: Uint8Array[];
  /** The connection is over after this (a close, a protocol error, a lie about the length). */
  terminal: boolean;
}

/** The next step of a raw fuzzer: a message, a fragment sequence, a protocol violation or a close. */
export function rawStep(fuzzer: string): RawStep {
  const roll = Math.random();
  const one = (frame: Uint8Array, terminal = false): RawStep => ({ frames: [frame], terminal });
  if (roll < 0.45) {
    const payload = messagePayload(fuzzer);
    return typeof payload === "string" ? one(wsFrame(0x1, utf8(payload))) : one(wsFrame(0x2, payload));
  }
  if (roll < 0.55) return one(wsFrame(0x1, invalidUtf8Payload()), true);
  if (roll < 0.62) {
    // A valid message split into 2-5 fragments, sometimes with a ping between them.
    const whole = utf8(JSON.stringify({ text: `${fuzzer} fragmented ${randomText(40)}` }));
    const parts = 2 + Math.floor(Math.random() * 4);
    const size = Math.ceil(whole.byteLength / parts);
    const frames: Uint8Array[] = [];
    for (let i = 0; i < parts; i++) {
      const chunk = whole.subarray(i * size, (i + 1) * size);
      frames.push(wsFrame(i === 0 ? 0x1 : 0x0, chunk, { fin: i === parts - 1 }));
      if (i === 0 && chance(0.5)) frames.push(wsFrame(0x9, utf8("mid-ping")));
    }
    return { frames, terminal: false };
  }
  if (roll < 0.65) {
    // Invalid UTF-8 split across fragments: each fragment alone looks harmless.
    return {
      frames: [
        wsFrame(0x1, new Uint8Array([0x7b, 0xe2, 0x82]), { fin: false }),
        wsFrame(0x0, new Uint8Array([0x28, 0x7d])),
      ],
      terminal: true,
    };
  }
  if (roll < 0.67) {
    // Fragments each under the limit whose message is over it.
    const chunk = new Uint8Array(24_000).fill(0x61);
    return {
      frames: [
        wsFrame(0x2, chunk, { fin: false }),
        wsFrame(0x0, chunk, { fin: false }),
        wsFrame(0x0, chunk, { fin: false }),
        wsFrame(0x0, chunk),
      ],
      terminal: true,
    };
  }
  if (roll < 0.72) return one(wsFrame(0x9, randomBinary(125)));
  if (roll < 0.75) return one(wsFrame(0xa, randomBinary(125)));
  if (roll < 0.77) return one(wsFrame(0x0, utf8("orphan continuation")), true);
  if (roll < 0.78) {
    return {
      frames: [wsFrame(0x1, utf8("start"), { fin: false }), wsFrame(0x1, utf8("new message mid-fragment"))],
      terminal: true,
    };
  }
  if (roll < 0.8) return one(wsFrame(pick([3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf]), randomBinary(20)), true);
  if (roll < 0.82)
    return one(wsFrame(0x1, utf8('{"text":"rsv"}'), { rsv: 1 + Math.floor(Math.random() * 7) }), true);
  if (roll < 0.84) return one(wsFrame(0x1, utf8('{"text":"unmasked"}'), { mask: false }), true);
  // A control frame over 125 bytes, then a fragmented one.
  if (roll < 0.85) return one(wsFrame(0x9, new Uint8Array(126 + Math.floor(Math.random() * 1000))), true);
  if (roll < 0.86) return one(wsFrame(0x9, utf8("fragmented ping"), { fin: false }), true);
  if (roll < 0.88) {
    // Lies about the length: 1 GiB, 2^62 or a 64-bit length with the top bit set.
    const declaredLength = pick([1n << 30n, 1n << 62n, (1n << 63n) + 5n]);
    return one(wsFrame(0x2, randomBinary(1000), { declaredLength }), true);
  }
  if (roll < 0.89) {
    // Half a frame, then the client vanishes.
    const whole = wsFrame(0x1, utf8(JSON.stringify({ text: "cut short" })));
    return one(whole.subarray(0, Math.floor(whole.byteLength / 2)), true);
  }
  // A close: valid or invalid codes, a 1-byte body, a reason in invalid UTF-8.
  const variant = Math.random();
  let payload: Uint8Array;
  if (variant < 0.4) payload = closePayload(pick(VALID_CLOSE_CODES), utf8(randomText(20)));
  else if (variant < 0.7) payload = closePayload(pick(INVALID_CLOSE_CODES));
  else if (variant < 0.8) payload = new Uint8Array([0x03]);
  else if (variant < 0.9) payload = closePayload(1000, new Uint8Array([0xff, 0xfe]));
  else payload = new Uint8Array();
  return one(wsFrame(0x8, payload), true);
}
