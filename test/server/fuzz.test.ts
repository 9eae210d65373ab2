/**
 * Fuzz run against a live server on each runtime: while a well-behaved client chats in
 * /chat/fuzzroom, 20 hostile clients (half through the runtime's WebSocket client, half writing
 * raw masked frames over TCP so they can break the protocol) throw at least 10,000 frames at
 * /chat/fuzzroom, /echo and /live: random text and binary, invalid UTF-8, oversized frames, JSON
 * bombs, prototype-pollution payloads, attempts to inject layer message types, protocol
 * violations and random close codes, reconnecting whenever the server closes them.
 *
 * Afterwards the server must still be up and serving, the good client must have received every
 * message it sent, in order, without being disconnected, and the server's memory must be bounded.
 */
import { afterAll, beforeAll, expect, it } from "bun:test";
import { randomBytes } from "node:crypto";
import { type Socket, connect as tcpConnect } from "node:net";
import { residentBytes, type ServerProcess, startServer } from "./_fixture.ts";
import { describeOnRuntime, type RuntimeName } from "./_runtimes.ts";

const MAX_FRAME_BYTES = 65_536;
const ROOM = "fuzzroom";
const GOOD_NAME = "goodclient";
const REQUIRED_FRAMES = 10_000;
/** The fuzzers run at least this long, and on past it until REQUIRED_FRAMES, up to FUZZ_MAX_MS. */
const FUZZ_MIN_MS = 5000;
const FUZZ_MAX_MS = 12_000;
const WS_FUZZERS = 10;
const RAW_FUZZERS = 10;
const GOOD_INTERVAL_MS = 5;
const PATHS = [`/chat/${ROOM}`, "/echo", "/live"] as const;
/**
 * RSS bound: before + 100 MiB, measured after the run and 1.5 s of quiet. The server may keep what
 * a busy run leaves behind (a grown heap, JIT code, socket buffer pools the allocator keeps), but
 * nothing that grows with the traffic. Measured over several runs (Bun 55-70k frames, Deno 25-40k,
 * Node 12-24k in the same 5 s): Bun +20-35 MiB, Deno +45-60 MiB, Node +30-40 MiB. 100 MiB leaves
 * headroom for GC timing while catching a server that keeps oversized frames, bombs or dead
 * connections (a run opens 1,000-10,000 connections and sends hundreds of MB).
 *
 * Deno and Node run V8 with a capped old space (V8_HEAP_MIB): uncapped, V8 lets garbage pile up
 * far past what is live (a bare Deno.serve echo server grows ~10 MiB per 1,000 connections too),
 * so RSS would measure GC laziness, not leaks. Capped, garbage is collected, RSS plateaus (8 runs
 * of this fuzz in a row stay flat), and a real leak ends in an out-of-memory exit, which the test
 * catches. Bun (JavaScriptCore) has no such flag and stays flat on its own.
 */
const RSS_HEADROOM = 100 * 1024 * 1024;
const V8_HEAP_MIB = 64;
const SERVER_ENV: Record<RuntimeName, Record<string, string>> = {
  bun: {},
  deno: { DENO_V8_FLAGS: `--max-old-space-size=${V8_HEAP_MIB}` },
  node: { NODE_OPTIONS: `--max-old-space-size=${V8_HEAP_MIB}` },
};

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;
const chance = (p: number) => Math.random() < p;
const encoder = new TextEncoder();
const utf8 = (text: string) => encoder.encode(text);

// --- payloads ------------------------------------------------------------------------------------

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

function randomText(maxLength = 300): string {
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
function messagePayload(fuzzer: string): string | Uint8Array {
  const roll = Math.random();
  if (roll < 0.25) return JSON.stringify({ text: `${fuzzer} says ${randomText(50)}` }); // valid chat
  if (roll < 0.32) return JSON.stringify({ text: randomText(100), extra: randomText(20) });
  if (roll < 0.47) return randomText();
  if (roll < 0.57) return randomBinary();
  if (roll < 0.65) return pick(BOMBS);
  if (roll < 0.68) return pick([OVERSIZED_TEXT, OVERSIZED_BINARY, OVERSIZED_UTF8]);
  return pick(HOSTILE_JSON); // the remaining 32%
}

// --- raw frames ----------------------------------------------------------------------------------

interface FrameOptions {
  fin?: boolean;
  rsv?: number;
  mask?: boolean;
  /** Length written in the header, when it should lie about the payload. */
  declaredLength?: bigint;
}

/** One WebSocket frame as a client writes it (masked unless told otherwise). */
function wsFrame(opcode: number, payload: Uint8Array, options: FrameOptions = {}): Uint8Array {
  const { fin = true, rsv = 0, mask = true } = options;
  const length = options.declaredLength ?? BigInt(payload.byteLength);
  const header: number[] = [(fin ? 0x80 : 0) | ((rsv & 0x7) << 4) | (opcode & 0xf)];
  const maskBit = mask ? 0x80 : 0;
  if (length < 126n) header.push(maskBit | Number(length));
  else if (length < 65_536n) header.push(maskBit | 126, Number(length >> 8n) & 0xff, Number(length) & 0xff);
  else {
    header.push(maskBit | 127);
    for (let shift = 56n; shift >= 0n; shift -= 8n) header.push(Number((length >> shift) & 0xffn));
  }
  const key = mask ? randomBytes(4) : null;
  const out = new Uint8Array(header.length + (key ? 4 : 0) + payload.byteLength);
  out.set(header, 0);
  let offset = header.length;
  if (key) {
    out.set(key, offset);
    offset += 4;
    for (let i = 0; i < payload.byteLength; i++) out[offset + i] = payload[i]! ^ key[i & 3]!;
  } else {
    out.set(payload, offset);
  }
  return out;
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
interface RawStep {
  frames: Uint8Array[];
  /** The connection is over after this (a close, a protocol error, a lie about the length). */
  terminal: boolean;
}

function rawStep(fuzzer: string): RawStep {
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

// --- clients -------------------------------------------------------------------------------------

interface Counters {
  frames: number;
  connections: number;
  refusedHandshakes: number;
  /** How the server ended fuzz connections: close code -> count; "none": no close frame came in 300 ms. */
  serverCloses: Record<string, number>;
}

const countClose = (counters: Counters, code: number | string) => {
  counters.serverCloses[code] = (counters.serverCloses[code] ?? 0) + 1;
};

/** A raw TCP WebSocket client; `closeCode` is the code of the server's close frame once it came. */
interface RawConnection {
  socket: Socket;
  closeCode: number | null;
  closed: Promise<void>;
}

/**
 * Opens a raw TCP WebSocket connection; resolves once the server answered the handshake with 101,
 * or null. Reads everything the server sends (so its writes never back up) and picks out its close.
 */
function openRaw(url: URL, path: string): Promise<RawConnection | null> {
  return new Promise((resolve) => {
    const socket = tcpConnect(Number(url.port), url.hostname);
    const connection: RawConnection = {
      socket,
      closeCode: null,
      closed: new Promise((resolveClosed) => socket.once("close", () => resolveClosed())),
    };
    let head = "";
    let buffer: Buffer = Buffer.alloc(0);
    let upgraded = false;
    let settled = false;
    const settle = (value: RawConnection | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (value === null) socket.destroy();
      resolve(value);
    };
    const timer = setTimeout(() => settle(null), 3000);
    socket.on("error", () => settle(null));
    socket.on("close", () => settle(null));
    socket.once("connect", () => {
      const key = randomBytes(16).toString("base64");
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: ${url.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    });
    socket.on("data", (chunk: Buffer) => {
      if (!upgraded) {
        head += chunk.toString("latin1");
        const end = head.indexOf("\r\n\r\n");
        if (end === -1) return;
        if (!head.startsWith("HTTP/1.1 101")) return settle(null);
        upgraded = true;
        chunk = Buffer.from(head.slice(end + 4), "latin1");
        settle(connection);
      }
      if (connection.closeCode !== null) return;
      buffer = buffer.byteLength === 0 ? chunk : Buffer.concat([buffer, chunk]);
      // Server frames are unmasked: walk them for the close frame, dropping the rest.
      while (buffer.byteLength >= 2) {
        let length = buffer[1]! & 0x7f;
        let offset = 2;
        if (length === 126) {
          if (buffer.byteLength < 4) return;
          length = buffer.readUInt16BE(2);
          offset = 4;
        } else if (length === 127) {
          if (buffer.byteLength < 10) return;
          length = Number(buffer.readBigUInt64BE(2));
          offset = 10;
        }
        if (buffer.byteLength < offset + length) return;
        if ((buffer[0]! & 0xf) === 0x8) {
          connection.closeCode = length >= 2 ? buffer.readUInt16BE(offset) : 1005;
          return;
        }
        buffer = buffer.subarray(offset + length);
      }
    });
  });
}

function writeAll(socket: Socket, data: Uint8Array): Promise<boolean> {
  if (socket.destroyed || !socket.writable) return Promise.resolve(false);
  if (socket.write(data)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.off("drain", onDrain);
      socket.off("close", onClose);
      resolve(ok);
    };
    const onDrain = () => done(true);
    const onClose = () => done(true); // written to the kernel; the server chose to stop reading
    const timer = setTimeout(() => done(true), 1000);
    socket.once("drain", onDrain);
    socket.once("close", onClose);
  });
}

async function rawFuzzer(url: URL, id: number, counters: Counters, stop: () => boolean): Promise<void> {
  const name = `fuzz-raw-${id}`;
  while (!stop()) {
    const path = pick(PATHS);
    const connection = await openRaw(
      url,
      path === "/echo" || path === "/live" ? path : `${path}?name=${name}`,
    );
    if (!connection) {
      counters.refusedHandshakes++;
      await sleep(5);
      continue;
    }
    const { socket } = connection;
    counters.connections++;
    let terminal = false;
    let quit = false;
    while (!stop() && !socket.destroyed && connection.closeCode === null && !terminal && !quit) {
      const step = rawStep(name);
      terminal = step.terminal;
      for (const frame of step.frames) {
        if (!(await writeAll(socket, frame))) {
          terminal = true;
          break;
        }
        counters.frames++;
      }
      quit = chance(0.01); // now and then a client just vanishes
      if (!terminal && !quit && chance(0.3)) await sleep(Math.random() * 3);
    }
    // Usually wait for the server to close its side; sometimes vanish at once.
    if (terminal && chance(0.8)) {
      await Promise.race([connection.closed, sleep(300)]);
      countClose(counters, connection.closeCode ?? "none");
    } else if (connection.closeCode !== null) {
      countClose(counters, connection.closeCode);
    }
    socket.destroy();
  }
}

async function wsFuzzer(server: ServerProcess, id: number, counters: Counters, stop: () => boolean) {
  const name = `fuzz-ws-${id}`;
  while (!stop()) {
    const path = pick(PATHS);
    const socket = new WebSocket(server.wsUrl(path === `/chat/${ROOM}` ? `${path}?name=${name}` : path));
    socket.binaryType = "arraybuffer";
    let closedByClient = false;
    const closed = new Promise<void>((resolve) =>
      socket.addEventListener("close", (event) => {
        if (!closedByClient) countClose(counters, event.code);
        resolve();
      }),
    );
    const opened = await Promise.race([
      new Promise<boolean>((resolve) => {
        socket.addEventListener("open", () => resolve(true));
        socket.addEventListener("error", () => resolve(false));
      }),
      sleep(3000).then(() => false),
    ]);
    if (!opened) {
      counters.refusedHandshakes++;
      socket.close();
      await sleep(5);
      continue;
    }
    counters.connections++;
    while (!stop() && socket.readyState === WebSocket.OPEN) {
      if (socket.bufferedAmount > 1024 * 1024) {
        await sleep(5);
        continue;
      }
      socket.send(messagePayload(name));
      counters.frames++;
      if (chance(0.01)) {
        // Clients may only send 1000 or 3000-4999; the raw fuzzers cover the rest.
        closedByClient = true;
        socket.close(pick([1000, 3000, 3999, 4000, 4321, 4999]), randomText(10).slice(0, 10));
        break;
      }
      if (chance(0.3)) await sleep(Math.random() * 3);
    }
    if (socket.readyState === WebSocket.OPEN) {
      closedByClient = true;
      socket.close(1000);
    }
    await Promise.race([closed, sleep(1000)]);
  }
}

interface ChatEvent {
  type?: string;
  user?: string;
  text?: string;
}

/** The well-behaved member: sends `good-<n>` every few ms and records what comes back. */
async function goodClient(server: ServerProcess) {
  const socket = new WebSocket(server.wsUrl(`/chat/${ROOM}?name=${GOOD_NAME}`));
  const mine: string[] = [];
  const suspicious: string[] = [];
  const nonJson: string[] = [];
  let roomMessages = 0;
  let closeEvent: { code: number; reason: string } | null = null;
  socket.addEventListener("message", (event) => {
    if (typeof event.data !== "string") {
      nonJson.push("binary frame");
      return;
    }
    let message: ChatEvent | null;
    try {
      message = JSON.parse(event.data) as ChatEvent | null;
    } catch {
      nonJson.push(event.data.slice(0, 100));
      return;
    }
    roomMessages++;
    if (message?.user === GOOD_NAME) mine.push(String(message.text));
    // Room members only ever get { type: "chat.message", user, text } with strings, nothing else.
    const keys = Object.keys(message ?? {})
      .sort()
      .join(",");
    if (
      message?.type !== "chat.message" ||
      keys !== "text,type,user" ||
      typeof message.user !== "string" ||
      typeof message.text !== "string" ||
      message.text.includes("INHERITED")
    ) {
      suspicious.push(event.data.slice(0, 200));
    }
  });
  socket.addEventListener("close", (event) => {
    closeEvent = { code: event.code, reason: event.reason };
  });
  await new Promise<void>((resolve, reject) => {
    socket.addEventListener("open", () => resolve());
    socket.addEventListener("error", () => reject(new Error("the good client could not connect")));
  });
  let sent = 0;
  let running = true;
  const chatting = (async () => {
    while (running && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify({ text: `good-${sent}` }));
      sent++;
      await sleep(GOOD_INTERVAL_MS);
    }
  })();
  return {
    mine,
    suspicious,
    nonJson,
    roomMessages: () => roomMessages,
    sent: () => sent,
    closeEvent: () => closeEvent,
    async stop() {
      running = false;
      await chatting;
    },
    /** Waits until everything sent came back (or `timeoutMs` passed). */
    async drain(timeoutMs: number) {
      const deadline = Date.now() + timeoutMs;
      while (mine.length < sent && Date.now() < deadline && closeEvent === null) await sleep(20);
    },
    close: () => socket.close(1000),
  };
}

/** Whether the process exists and is not a zombie: the server has not exited. */
async function isRunning(pid: number): Promise<boolean> {
  try {
    const status = await Bun.file(`/proc/${pid}/status`).text();
    return !/^State:\s+[ZX]/m.test(status);
  } catch {
    return false;
  }
}

/** One request/answer on a fresh socket, as a client that plays by the rules. */
async function roundTrip(url: string, data: string | Uint8Array): Promise<string | Uint8Array> {
  const socket = new WebSocket(url);
  socket.binaryType = "arraybuffer";
  try {
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer from ${url}`)), 5000);
      socket.addEventListener("open", () => socket.send(data));
      socket.addEventListener("message", (event) => {
        clearTimeout(timer);
        resolve(typeof event.data === "string" ? event.data : new Uint8Array(event.data as ArrayBuffer));
      });
      socket.addEventListener("error", () => reject(new Error(`${url} failed`)));
    });
  } finally {
    socket.close(1000);
  }
}

const MiB = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

for (const runtime of ["bun", "deno", "node"] as const satisfies RuntimeName[]) {
  describeOnRuntime(runtime, `fuzz on ${runtime}`, () => {
    let server: ServerProcess;
    beforeAll(async () => {
      server = await startServer(runtime, {
        MAX_FRAME_BYTES: String(MAX_FRAME_BYTES),
        LOG_LEVEL: "error",
        ...SERVER_ENV[runtime],
      });
    });
    afterAll(() => server?.kill());

    it(`survives ${REQUIRED_FRAMES}+ hostile frames while a good client chats without loss`, async () => {
      // Warm up every consumer once, so the baseline includes loaded modules and JIT-compiled paths.
      expect(await roundTrip(server.wsUrl("/echo"), "warm")).toBe("warm");
      expect(JSON.parse(String(await roundTrip(server.wsUrl("/live"), '{"type":"time"}'))).type).toBe("time");
      await Bun.sleep(300);
      const rssBefore = await residentBytes(server.pid);

      const good = await goodClient(server);
      const counters: Counters = { frames: 0, connections: 0, refusedHandshakes: 0, serverCloses: {} };
      const started = performance.now();
      const stop = () => {
        const elapsed = performance.now() - started;
        return (elapsed >= FUZZ_MIN_MS && counters.frames >= REQUIRED_FRAMES) || elapsed >= FUZZ_MAX_MS;
      };
      await Promise.all([
        ...Array.from({ length: WS_FUZZERS }, (_, i) => wsFuzzer(server, i, counters, stop)),
        ...Array.from({ length: RAW_FUZZERS }, (_, i) => rawFuzzer(server.url, i, counters, stop)),
      ]);
      const fuzzMs = performance.now() - started;
      await good.stop();
      await good.drain(5000);
      const peakRss = await residentBytes(server.pid);

      const report = {
        runtime,
        frames: counters.frames,
        connections: counters.connections,
        refusedHandshakes: counters.refusedHandshakes,
        fuzzSeconds: Number((fuzzMs / 1000).toFixed(1)),
        goodSent: good.sent(),
        goodReceived: good.mine.length,
        roomMessages: good.roomMessages(),
        serverCloses: counters.serverCloses,
      };

      // The good client was never disconnected, and got every message back, in order.
      expect(good.closeEvent()).toBeNull();
      expect(good.sent()).toBeGreaterThan(100);
      const expected = Array.from({ length: good.sent() }, (_, i) => `good-${i}`);
      if (good.mine.length !== expected.length || good.mine.some((text, i) => text !== expected[i])) {
        console.error("good client lost or reordered messages", report, server.output().slice(-4000));
      }
      expect(good.mine).toEqual(expected);
      // Nothing but chat messages reached the room: no injected types, no polluted fields.
      expect(good.suspicious).toEqual([]);
      expect(good.nonJson).toEqual([]);
      good.close();

      expect(counters.frames).toBeGreaterThanOrEqual(REQUIRED_FRAMES);

      // The server is still up and serving HTTP and WebSockets as before.
      expect(await isRunning(server.pid)).toBe(true);
      const health = await fetch(new URL("/health", server.url));
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ status: "ok" });
      expect(await roundTrip(server.wsUrl("/echo"), "still echoing")).toBe("still echoing");
      expect(await roundTrip(server.wsUrl("/echo"), new Uint8Array([0, 255, 1]))).toEqual(
        new Uint8Array([0, 255, 1]),
      );
      // The server's own Object.prototype is clean: `{}` has no inherited `text` to broadcast.
      const answer = JSON.parse(String(await roundTrip(server.wsUrl(`/chat/${ROOM}?name=after`), "{}")));
      expect(answer).toMatchObject({ type: "error", code: "INVALID_MESSAGE" });
      const chat = JSON.parse(
        String(await roundTrip(server.wsUrl(`/chat/${ROOM}?name=after`), '{"text":"after the storm"}')),
      );
      expect(chat).toEqual({ type: "chat.message", user: "after", text: "after the storm" });
      // And this process's (sanity: the payloads were only ever strings on the wire).
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(Object.hasOwn(Object.prototype, "polluted")).toBe(false);

      // Memory: let closes finish and the GC catch up, then compare with the baseline.
      await Bun.sleep(1500);
      const rssAfter = await residentBytes(server.pid);
      console.log(
        `fuzz ${runtime}: ${JSON.stringify(report)} rss before ${MiB(rssBefore)}, at end of run ${MiB(peakRss)}, ` +
          `after settling ${MiB(rssAfter)} (bound ${MiB(rssBefore + RSS_HEADROOM)})`,
      );
      expect(rssAfter).toBeLessThan(rssBefore + RSS_HEADROOM);
      expect(await isRunning(server.pid)).toBe(true);
      // Hostile input is the client's doing: no handler may have failed over it (LOG_LEVEL=error).
      expect(
        server.output().match(/^.*(error|fail|panic|uncaught|exception|out of memory).*$/gim) ?? [],
      ).toEqual([]);
    }, 45_000);
  });
}
