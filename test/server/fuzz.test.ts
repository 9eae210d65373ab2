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
import { issueToken } from "../../src/security/auth.ts";
import { handshake, roundTrip } from "./_client.ts";
import { residentBytes, type ServerProcess, startServer, TEST_SECRET } from "./_fixture.ts";
import {
  chance,
  GOOD_NAME,
  MAX_FRAME_BYTES,
  messagePayload,
  pick,
  randomText,
  rawStep,
} from "./_fuzz-payloads.ts";
import { openRaw, writeAll } from "./_raw-socket.ts";
import { describeOnRuntime, type RuntimeName } from "./_runtimes.ts";

const ROOM = "fuzzroom";
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

/** Handshakes that must answer 400 before any consumer code: keys of the wrong shape, two keys, no Upgrade. */
const BAD_HANDSHAKES: ReadonlyArray<ReadonlyArray<readonly [string, string]>> = [
  [["Sec-WebSocket-Key", "abc"]],
  [["Sec-WebSocket-Key", Buffer.from("twelve bytes").toString("base64")]],
  [["Sec-WebSocket-Key", "not base64 at all, not at all!"]],
  [
    ["Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="],
    ["Sec-WebSocket-Key", "AQIDBAUGBwgJCgsMDQ4PEA=="],
  ],
  [["Connection", "keep-alive"]],
];

/**
 * HTTP-level hostility beside the frames: malformed handshakes (each must get 400) and JSON bodies
 * nested far past MAX_JSON_DEPTH posted to the dashboard broadcast (each must get 400). Any other
 * answer is recorded in `unexpected`.
 */
async function requestFuzzer(server: ServerProcess, unexpected: string[], stop: () => boolean) {
  const token = await issueToken({ id: "fuzzer", name: "fuzzer" }, TEST_SECRET);
  while (!stop()) {
    const bad = pick(BAD_HANDSHAKES);
    const { status } = await handshake(server.url, pick(PATHS), bad);
    if (status !== 400) unexpected.push(`handshake ${JSON.stringify(bad)} -> ${status}`);
    const levels = 1000 + Math.floor(Math.random() * 4000);
    const response = await fetch(new URL("/api/updates", server.url), {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: `{"topic":"fuzz","data":${"[".repeat(levels)}${"]".repeat(levels)}}`,
    });
    if (response.status !== 400) unexpected.push(`deep POST (${levels} levels) -> ${response.status}`);
    await response.body?.cancel();
    await sleep(10);
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
      const unexpected: string[] = [];
      await Promise.all([
        ...Array.from({ length: WS_FUZZERS }, (_, i) => wsFuzzer(server, i, counters, stop)),
        ...Array.from({ length: RAW_FUZZERS }, (_, i) => rawFuzzer(server.url, i, counters, stop)),
        requestFuzzer(server, unexpected, stop),
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
      // Every malformed handshake and every over-deep body was refused with 400, nothing else.
      expect(unexpected).toEqual([]);

      // The server is still up and serving HTTP and WebSockets as before.
      expect(await isRunning(server.pid)).toBe(true);
      const health = await fetch(new URL("/health", server.url));
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ status: "ok", layer: "up" });
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
