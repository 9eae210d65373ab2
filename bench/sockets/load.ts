/**
 * The load generator: one scenario against one server, from its own process, over loopback.
 * Prints one JSON line (the result) on stdout; nothing else goes there.
 *
 *   bun bench/sockets/load.ts <scenario> <ws://127.0.0.1:port> [server pid] [channels|socketio]
 *
 * Two protocols. `channels`, the shipped consumers': at `/echo` every text frame comes back; at
 * `/chat/<room>` a `{"text": "..."}` frame reaches every member of the room (sender included) as a
 * JSON text frame that contains the text. `socketio`: the same two things as Socket.IO events
 * (`echo`, and `chat` in the room given by the `room` query parameter; see socketio.ts).
 * Every scenario is bounded in count and in time (`DEADLINE_MS`).
 */

/** What one scenario run reports. */
export interface LoadResult {
  scenario: string;
  /** Messages (echo), deliveries (fanout, rooms, burst), handshakes or requests (http) per second. */
  rate: number;
  /** 99th percentile round trip in ms (echo only). */
  p99?: number;
  /** Deliveries expected but never seen before the deadline (0 on a healthy run). */
  missing: number;
  /** Server CPU time (user + system) per message or delivery, in µs, when its pid was given. */
  cpuUs?: number;
  /** Growth of the server's resident memory per open, idle connection, in KB (connect only). */
  kbPerConnection?: number;
  /** The slowest `/health` answer and round trip in another room during the burst, in ms (burst only). */
  healthMaxMs?: number;
  otherRoomMaxMs?: number;
  /** shutdown only: ms from SIGTERM until the server process was gone, and until its last socket closed. */
  exitMs?: number;
  lastCloseMs?: number;
  /** shutdown only: sockets that did not get a clean close (1001 "going away") before the server exited. */
  uncleanCloses?: number;
  /** shutdown only: how many sockets closed with each code (a socket dropped without a close frame: 1006). */
  closeCodes?: Record<string, number>;
  /** shutdown only: the share of the burst's frames the last member had when SIGTERM was sent. */
  burstDoneAtSignal?: number;
  elapsedMs: number;
}

import { existsSync, readFileSync } from "node:fs";
import { CONNECT_FRAME, decode, eventFrame, PONG_FRAME, SOCKET_IO_PATH } from "./socketio.ts";

const DEADLINE_MS = 60_000;
/** A scenario that stops making progress for this long has lost deliveries: it ends, reporting them. */
const STALL_MS = 3000;
const BURST_STALL_MS = 15_000;
const PROBE_GRACE_MS = 30_000;
const CONNECT_BATCH = 50;
// An unmeasured phase first, so what is measured is a warm server, as a long-running one is. The
// measured phases last a second or less; after a warm-up of a tenth of them, a server still
// compiling its JavaScript (the JIT's threads share the server's core) read 10-30% below its own
// next run (rooms and http on Bun, Deno and Node), a cost the hand-written servers, with
// little JavaScript, barely pay. So each warms up with half to all of its measured phase.
const WARMUP_ECHO = 1000; // messages per connection (2,000 measured)
const WARMUP_FANOUT = 100; // messages to the room (200 measured)
const WARMUP_ROOMS = 20; // messages per member (20 measured)
// Connect keeps its 100: more would change the memory reading (the allocator then reuses what
// the warm-up freed); the 2,000 connections opened and closed for it warm up the timed handshakes.
const WARMUP_CONNECT = 100;
const WARMUP_HTTP = 200; // requests per client (400 measured)

type Protocol = "channels" | "socketio";
let protocol: Protocol = "channels";

/** Where a client goes: the echo endpoint, or a chat room. */
type Target = "echo" | { room: string };

/** One client: `send(text)` echoes it or says it in the room, in the server's protocol. */
interface Client {
  ws: WebSocket;
  send(text: string): void;
}

function urlOf(base: string, target: Target): string {
  if (protocol === "socketio") {
    return target === "echo"
      ? `${base}${SOCKET_IO_PATH}`
      : `${base}${SOCKET_IO_PATH}&room=${encodeURIComponent(target.room)}`;
  }
  return target === "echo" ? `${base}/echo` : `${base}/chat/${target.room}`;
}

function frameOf(target: Target, text: string): string {
  if (protocol === "socketio")
    return target === "echo" ? eventFrame("echo", text) : eventFrame("chat", { text });
  return target === "echo" ? text : JSON.stringify({ text });
}

/**
 * Opens `count` clients to `target(i)`, `CONNECT_BATCH` at a time; `onMessage(i)` for each echo or
 * chat message. A Socket.IO client counts as open once the server answered its connect (`40`).
 */
async function openAll(
  base: string,
  count: number,
  target: (i: number) => Target,
  onMessage: (i: number) => void,
): Promise<Client[]> {
  const clients: Client[] = [];
  for (let start = 0; start < count; start += CONNECT_BATCH) {
    const batch: Promise<void>[] = [];
    for (let i = start; i < Math.min(count, start + CONNECT_BATCH); i++) {
      const to = target(i);
      const url = urlOf(base, to);
      const ws = new WebSocket(url);
      clients.push({ ws, send: (text) => ws.send(frameOf(to, text)) });
      batch.push(
        new Promise((resolve, reject) => {
          ws.onerror = () => reject(new Error(`socket ${i} to ${url} failed to open`));
          if (protocol === "channels") {
            ws.onopen = () => resolve();
            ws.onmessage = () => onMessage(i);
            return;
          }
          ws.onmessage = (event) => {
            const packet = decode(event.data as string);
            if (packet.kind === "event") onMessage(i);
            else if (packet.kind === "ping") ws.send(PONG_FRAME);
            else if (packet.kind === "open") ws.send(CONNECT_FRAME);
            else if (packet.kind === "connected") resolve();
          };
        }),
      );
    }
    await Promise.all(batch);
  }
  return clients;
}

/** The server's pid, when given: its CPU time is read around the measured phase. */
let serverPid = 0;

/** CPU time (user + system, all threads) the server has used so far, in ms; 0 without a pid. */
function serverCpuMs(): number {
  if (!serverPid) return 0;
  // /proc/<pid>/stat: fields 14 and 15 (utime, stime) in clock ticks of 10 ms, after the "(name)".
  const fields = readFileSync(`/proc/${serverPid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** The server's resident memory in KB; 0 without a pid. */
function serverRssKb(): number {
  if (!serverPid) return 0;
  return Number(readFileSync(`/proc/${serverPid}/status`, "utf8").match(/VmRSS:\s+(\d+)/)?.[1] ?? 0);
}

/**
 * The server's resident memory in KB once settled: a full collection first (SIGUSR2, see _gc.ts),
 * then the median of five readings 100 ms apart.
 */
async function settledRssKb(): Promise<number> {
  process.kill(serverPid, "SIGUSR2");
  await Bun.sleep(300);
  const readings: number[] = [];
  for (let n = 0; n < 5; n++) {
    readings.push(serverRssKb());
    await Bun.sleep(100);
  }
  return readings.sort((a, b) => a - b)[2]!;
}

/** µs of server CPU per unit of work done between `cpuBefore` and now. */
function cpuPer(cpuBefore: number, units: number): number | undefined {
  return serverPid && units > 0 ? ((serverCpuMs() - cpuBefore) * 1000) / units : undefined;
}

/** Resolves once `count()` reaches `target`, at the deadline, or after `stallMs` without progress. */
async function until(
  count: () => number,
  target: number,
  deadline: number,
  stallMs = STALL_MS,
): Promise<void> {
  let last = -1;
  let lastChange = performance.now();
  while (count() < target && performance.now() < deadline) {
    if (count() !== last) {
      last = count();
      lastChange = performance.now();
    } else if (performance.now() - lastChange > stallMs) return;
    await Bun.sleep(2);
  }
}

function closeAll(clients: Client[]): void {
  for (const client of clients) client.ws.close();
}

/** 50 connections x 2,000 messages, one in flight per connection: msg/s and p99 round trip. */
async function echo(base: string): Promise<LoadResult> {
  const connections = 50;
  const payload = "x".repeat(64);
  const sentAt = new Float64Array(connections);
  const remaining = new Int32Array(connections);
  let latencies = new Float64Array(0);
  let recorded = 0;
  let sockets: Client[] = [];
  const fire = (i: number) => {
    sentAt[i] = performance.now();
    sockets[i]!.send(payload);
  };
  sockets = await openAll(
    base,
    connections,
    () => "echo",
    (i) => {
      latencies[recorded++] = performance.now() - sentAt[i]!;
      if (--remaining[i]! > 0) fire(i);
    },
  );
  const phase = async (messages: number) => {
    latencies = new Float64Array(connections * messages);
    recorded = 0;
    remaining.fill(messages);
    const start = performance.now();
    for (let i = 0; i < connections; i++) fire(i);
    await until(() => recorded, connections * messages, start + DEADLINE_MS);
    return performance.now() - start;
  };
  await phase(WARMUP_ECHO);
  const cpu = serverCpuMs();
  const elapsedMs = await phase(2000);
  const cpuUs = cpuPer(cpu, recorded);
  closeAll(sockets);
  const sorted = latencies.subarray(0, recorded).sort();
  return {
    scenario: "echo",
    rate: (recorded / elapsedMs) * 1000,
    p99: sorted[Math.max(0, Math.ceil(recorded * 0.99) - 1)] ?? Number.NaN,
    missing: latencies.length - recorded,
    elapsedMs,
    cpuUs,
  };
}

/** 500 members of one room, one sender, 200 messages, the next sent once every member had the last. */
async function fanout(base: string): Promise<LoadResult> {
  const members = 500;
  let seen = 0;
  let sent = 0;
  let toSend = 0;
  let sockets: Client[] = [];
  const next = () => {
    sent++;
    sockets[0]!.send(`m${sent}`);
  };
  sockets = await openAll(
    base,
    members,
    () => ({ room: "fanout" }),
    () => {
      if (++seen % members === 0 && sent < toSend) next();
    },
  );
  const phase = async (messages: number) => {
    seen = 0;
    sent = 0;
    toSend = messages;
    const start = performance.now();
    next();
    await until(() => seen, members * messages, start + DEADLINE_MS);
    return performance.now() - start;
  };
  await phase(WARMUP_FANOUT);
  const cpu = serverCpuMs();
  const elapsedMs = await phase(200);
  const cpuUs = cpuPer(cpu, seen);
  closeAll(sockets);
  return {
    scenario: "fanout",
    rate: (seen / elapsedMs) * 1000,
    missing: members * 200 - seen,
    elapsedMs,
    cpuUs,
  };
}

/**
 * 100 rooms x 10 members; every member sends its 20 messages at once, so each room has 200 in
 * flight and every socket gets many frames per turn of the server: the shape that coalescing serves.
 */
async function rooms(base: string): Promise<LoadResult> {
  const roomCount = 100;
  const size = 10;
  const clients = roomCount * size;
  let seen = 0;
  let phaseId = 0;
  const sockets = await openAll(
    base,
    clients,
    (i) => ({ room: `room${Math.floor(i / size)}` }),
    () => {
      seen++;
    },
  );
  const phase = async (messages: number) => {
    phaseId++;
    seen = 0;
    const start = performance.now();
    for (let n = 0; n < messages; n++) {
      for (let i = 0; i < clients; i++) sockets[i]!.send(`p${phaseId}c${i}-${n}`);
    }
    await until(() => seen, clients * messages * size, start + DEADLINE_MS);
    return performance.now() - start;
  };
  await phase(WARMUP_ROOMS);
  const cpu = serverCpuMs();
  const elapsedMs = await phase(20);
  const cpuUs = cpuPer(cpu, seen);
  closeAll(sockets);
  const missing = clients * 20 * size - seen;
  return { scenario: "rooms", rate: (seen / elapsedMs) * 1000, missing, elapsedMs, cpuUs };
}

/**
 * 2,000 connections to the echo endpoint held open and idle, for the memory each costs the server;
 * then 1,000 handshakes, 50 at a time, each socket closed once open: handshakes/s.
 */
async function connect(base: string): Promise<LoadResult> {
  const held = 2000;
  const total = 1000;
  const round = async (count: number) => {
    for (let start = 0; start < count; start += CONNECT_BATCH) {
      closeAll(
        await openAll(
          base,
          CONNECT_BATCH,
          () => "echo",
          () => {},
        ),
      );
    }
  };
  await round(WARMUP_CONNECT);
  // Before the timed handshakes, whose garbage would otherwise weigh on one reading only. Both
  // readings follow a full collection, so the difference is what the open sockets keep alive.
  const rss = serverPid ? await settledRssKb() : 0;
  const open = await openAll(
    base,
    held,
    () => "echo",
    () => {},
  );
  await Bun.sleep(200);
  const kbPerConnection = serverPid ? ((await settledRssKb()) - rss) / held : undefined;
  closeAll(open);
  await Bun.sleep(200);
  const cpu = serverCpuMs();
  const started = performance.now();
  await round(total);
  const elapsedMs = performance.now() - started;
  const cpuUs = cpuPer(cpu, total);
  return {
    scenario: "connect",
    rate: (total / elapsedMs) * 1000,
    missing: 0,
    elapsedMs,
    cpuUs,
    kbPerConnection,
  };
}

/**
 * Fairness: one member of a 100-member room sends `frames` small frames at once; meanwhile a probe
 * asks `/health` and another one sends to a two-member room, each every 20 ms, one at a time.
 * Reports the burst's deliveries/s (to all 100 members) and the slowest answer of each probe while
 * it lasted; `missing` counts deliveries that never came.
 */
async function burst(base: string, frames: number, scenario: string): Promise<LoadResult> {
  const members = 100;
  // Every member's deliveries count: a server may skip some for a member that fell behind (ours
  // does past CHANNEL_CAPACITY, as documented), and the rate must not credit it with those.
  let seen = 0;
  let lastAt = 0;
  let lastMember = 0;
  const sockets = await openAll(
    base,
    members,
    () => ({ room: "burst" }),
    (i) => {
      seen++;
      lastAt = performance.now();
      if (i === members - 1) lastMember++;
    },
  );
  // The probes run in a process of their own: sharing this one's event loop, saturated by the
  // burst's 100 clients, they measured this process's lag as much as the server's.
  const probes = await startProbes(base);
  const cpu = serverCpuMs();
  const start = performance.now();
  for (let n = 0; n < frames; n++) sockets[0]!.send(`b${n}`);
  // Once the last member (never the sender) has the whole burst, the others get half a second more
  // rather than STALL_MS: the sender's own copies are the ones a server skips.
  // A server that does all its reading before any writing (the hand-written Deno and Node ones)
  // sends nothing for seconds on a busy machine: a stall here is BURST_STALL_MS, not STALL_MS.
  await until(() => lastMember, frames, start + DEADLINE_MS, BURST_STALL_MS);
  await until(() => seen, frames * members, performance.now() + 500);
  // Until the last delivery, not the end of the wait: a skipped delivery must not add to it. Read
  // now: deliveries that come later (while the probes finish) are not in the rate.
  const elapsedMs = lastAt > start ? lastAt - start : performance.now() - start;
  const delivered = seen;
  const cpuUs = cpuPer(cpu, delivered);
  const { healthMaxMs, otherRoomMaxMs } = await probes.stop();
  closeAll(sockets);
  const rate = (delivered / elapsedMs) * 1000;
  const missing = frames * members - delivered;
  return { scenario, rate, missing, elapsedMs, cpuUs, healthMaxMs, otherRoomMaxMs };
}

/**
 * `GET /health` with 50 concurrent keep-alive fetches, each awaiting its answer before the next:
 * 20,000 requests after 2,000 unmeasured; requests/s. Non-200 answers count as missing.
 */
async function http(base: string): Promise<LoadResult> {
  const concurrency = 50;
  const url = `${base.replace("ws://", "http://")}/health`;
  let ok = 0;
  let failed = 0;
  const phase = async (perLoop: number) => {
    ok = 0;
    failed = 0;
    const loop = async () => {
      for (let n = 0; n < perLoop; n++) {
        const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
        await response.arrayBuffer();
        if (response.status === 200) ok++;
        else failed++;
      }
    };
    const start = performance.now();
    await Promise.all(Array.from({ length: concurrency }, loop));
    return performance.now() - start;
  };
  await phase(WARMUP_HTTP);
  const cpu = serverCpuMs();
  const elapsedMs = await phase(400);
  return {
    scenario: "http",
    rate: (ok / elapsedMs) * 1000,
    missing: failed,
    elapsedMs,
    cpuUs: cpuPer(cpu, ok),
  };
}

/** Whether the process `pid` is gone (or a zombie its parent has not reaped yet). */
function gone(pid: number): boolean {
  if (!existsSync(`/proc/${pid}/stat`)) return true;
  try {
    return readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.[0] === "Z";
  } catch {
    return true; // reaped between the two reads
  }
}

/**
 * Graceful shutdown under load: 200 clients in 20 rooms of 10 each say something 20 times a second,
 * and one member of a 100-member room sends a burst of 5,000 frames; once a tenth of the burst has
 * arrived, SIGTERM to the server. Reports the ms until the process was gone and until its last
 * socket closed, and how many sockets did not get a clean close (1001) first. It ends the server:
 * run it last.
 */
async function shutdown(base: string): Promise<LoadResult> {
  const chatters = 200;
  const members = 100;
  const frames = 5000;
  let last = 0;
  let closes = 0;
  let uncleanCloses = 0;
  let lastClose = 0;
  const closeCodes: Record<string, number> = {};
  const chat = await openAll(
    base,
    chatters,
    (i) => ({ room: `talk${Math.floor(i / 10)}` }),
    () => {},
  );
  const room = await openAll(
    base,
    members,
    () => ({ room: "burst" }),
    (i) => {
      if (i === members - 1) last++;
    },
  );
  const clients = [...chat, ...room];
  for (const client of clients) {
    client.ws.onclose = (event) => {
      closes++;
      closeCodes[event.code] = (closeCodes[event.code] ?? 0) + 1;
      if (event.code !== 1001) uncleanCloses++;
      lastClose = performance.now();
    };
  }
  const say = (client: Client) => client.ws.readyState === WebSocket.OPEN && client.send("hello");
  const talking = setInterval(() => chat.forEach(say), 50);
  await Bun.sleep(500);
  const start = performance.now();
  for (let n = 0; n < frames; n++) say(room[0]!);
  await until(() => last, frames / 10, start + DEADLINE_MS);
  const signalled = performance.now();
  const burstDoneAtSignal = last / frames;
  process.kill(serverPid, "SIGTERM");
  while (!gone(serverPid) && performance.now() - signalled < DEADLINE_MS) await Bun.sleep(5);
  const exitMs = performance.now() - signalled;
  clearInterval(talking);
  // Sockets the server did not close are dropped with it: give their close events a moment.
  await until(() => closes, clients.length, performance.now() + 1000);
  return {
    scenario: "shutdown",
    rate: Number.NaN,
    exitMs,
    lastCloseMs: lastClose ? lastClose - signalled : undefined,
    uncleanCloses: uncleanCloses + (clients.length - closes),
    closeCodes,
    burstDoneAtSignal,
    missing: 0,
    elapsedMs: performance.now() - start,
  };
}

/** The slowest answers the probes saw: `/health`, and a round trip in a quiet two-member room. */
type ProbeResult = { healthMaxMs: number; otherRoomMaxMs: number };

/**
 * Starts the probes in a child process (`load.ts probes <base>`), resolving once they are running;
 * `stop()` ends them and gives their slowest answers.
 */
async function startProbes(base: string): Promise<{ stop(): Promise<ProbeResult> }> {
  const child = Bun.spawn(["bun", import.meta.path, "probes", base], { stdin: "pipe", stdout: "pipe" });
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let output = "";
  while (!output.includes("ready\n")) {
    const { value, done } = await lines.read();
    if (done) throw new Error("the probes' process ended before it was ready");
    output += value;
  }
  return {
    async stop() {
      child.stdin.end();
      for (;;) {
        const { value, done } = await lines.read();
        if (done) break;
        output += value;
      }
      await child.exited;
      return JSON.parse(output.trim().split("\n").pop()!) as ProbeResult;
    },
  };
}

/**
 * The probes' process: asks `/health` and sends to a two-member room, each every 20 ms, one at a
 * time, until its stdin closes; prints "ready", then the slowest answers as JSON. A probe whose
 * answer never comes (a server that dropped the socket) must not hang the run: once told to stop
 * the probes get PROBE_GRACE_MS to finish, and one still waiting then reports how long it has
 * waited so far (a lower bound).
 */
async function runProbes(base: string): Promise<void> {
  let heard: (() => void) | null = null;
  const [talker, listener] = await openAll(
    base,
    2,
    () => ({ room: "quiet" }),
    (i) => {
      if (i === 1) heard?.();
    },
  );
  let running = true;
  const probe = (once: () => Promise<void>) => {
    const state = { slowest: 0, since: 0 };
    const done = (async () => {
      while (running) {
        state.since = performance.now();
        await once();
        state.slowest = Math.max(state.slowest, performance.now() - state.since);
        state.since = 0;
        await Bun.sleep(20);
      }
    })();
    return { state, done };
  };
  const health = new URL("/health", base.replace("ws://", "http://"));
  const probes = [
    probe(async () => void (await fetch(health)).body?.cancel()),
    probe(
      () =>
        new Promise<void>((resolve) => {
          heard = resolve;
          talker!.send("probe");
        }),
    ),
  ];
  console.log("ready");
  // Nothing is sent: the end of stdin is the signal to stop.
  const stdin = Bun.stdin.stream().getReader();
  while (!(await stdin.read()).done) {}
  running = false;
  await Promise.race([Promise.all(probes.map((p) => p.done)), Bun.sleep(PROBE_GRACE_MS)]);
  const [healthMaxMs, otherRoomMaxMs] = probes.map(({ state }) =>
    Math.max(state.slowest, state.since ? performance.now() - state.since : 0),
  );
  closeAll([talker!, listener!]);
  console.log(JSON.stringify({ healthMaxMs, otherRoomMaxMs }));
}

const scenarios: Record<string, (base: string) => Promise<LoadResult>> = {
  echo,
  fanout,
  rooms,
  connect,
  burst: (base) => burst(base, 5000, "burst"),
  burst4x: (base) => burst(base, 20_000, "burst4x"),
  http,
  shutdown,
};

if (import.meta.main && process.argv[2] === "probes") {
  await runProbes(process.argv[3]!);
  process.exit(0);
} else if (import.meta.main) {
  const [name, base, pid, wire] = process.argv.slice(2);
  serverPid = Number(pid ?? 0);
  protocol = wire === "socketio" ? "socketio" : "channels";
  const run = scenarios[name ?? ""];
  if (!run || !base?.startsWith("ws://127.0.0.1:") || (name === "shutdown" && !serverPid)) {
    console.error(
      `usage: bun bench/sockets/load.ts <${Object.keys(scenarios).join("|")}> ws://127.0.0.1:<port> [pid] [channels|socketio]`,
    );
    process.exit(2);
  }
  const result = await run(base);
  console.log(JSON.stringify(result));
  process.exit(0);
}
