/**
 * The load generator: one scenario against one server, from its own process, over loopback.
 * Prints one JSON line (the result) on stdout; nothing else goes there.
 *
 *   bun bench/sockets/load.ts <echo|fanout|rooms|connect|burst> <ws://127.0.0.1:port> [server pid]
 *
 * The protocol is the shipped consumers': at `/echo` every text frame comes back; at `/chat/<room>`
 * a `{"text": "..."}` frame reaches every member of the room (sender included) as a JSON text frame
 * that contains the text. Every scenario is bounded in count and in time (`DEADLINE_MS`).
 */

/** What one scenario run reports. */
export interface LoadResult {
  scenario: string;
  /** Messages (echo) or deliveries (fanout, rooms) per second. */
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
  elapsedMs: number;
}

import { readFileSync } from "node:fs";

const DEADLINE_MS = 60_000;
/** A scenario that stops making progress for this long has lost deliveries: it ends, reporting them. */
const STALL_MS = 3000;
const CONNECT_BATCH = 50;
// A short unmeasured phase first, so the server's JIT has warmed up before the clock starts.
const WARMUP_ECHO = 200;
const WARMUP_FANOUT = 20;
const WARMUP_ROOMS = 2;
const WARMUP_CONNECT = 100;

/** Opens `count` sockets to `url(i)`, `CONNECT_BATCH` at a time; `onMessage(i, data)` for each frame. */
async function openAll(
  count: number,
  url: (i: number) => string,
  onMessage: (i: number, data: string) => void,
): Promise<WebSocket[]> {
  const sockets: WebSocket[] = [];
  for (let start = 0; start < count; start += CONNECT_BATCH) {
    const batch: Promise<void>[] = [];
    for (let i = start; i < Math.min(count, start + CONNECT_BATCH); i++) {
      const ws = new WebSocket(url(i));
      sockets.push(ws);
      ws.onmessage = (event) => onMessage(i, event.data as string);
      batch.push(
        new Promise((resolve, reject) => {
          ws.onopen = () => resolve();
          ws.onerror = () => reject(new Error(`socket ${i} to ${url(i)} failed to open`));
        }),
      );
    }
    await Promise.all(batch);
  }
  return sockets;
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

/** µs of server CPU per unit of work done between `cpuBefore` and now. */
function cpuPer(cpuBefore: number, units: number): number | undefined {
  return serverPid && units > 0 ? ((serverCpuMs() - cpuBefore) * 1000) / units : undefined;
}

/** Resolves once `count()` reaches `target`, at the deadline, or after `STALL_MS` without progress. */
async function until(count: () => number, target: number, deadline: number): Promise<void> {
  let last = -1;
  let lastChange = performance.now();
  while (count() < target && performance.now() < deadline) {
    if (count() !== last) {
      last = count();
      lastChange = performance.now();
    } else if (performance.now() - lastChange > STALL_MS) return;
    await Bun.sleep(2);
  }
}

function closeAll(sockets: WebSocket[]): void {
  for (const ws of sockets) ws.close();
}

/** 50 connections x 2,000 messages, one in flight per connection: msg/s and p99 round trip. */
async function echo(base: string): Promise<LoadResult> {
  const connections = 50;
  const payload = "x".repeat(64);
  const sentAt = new Float64Array(connections);
  const remaining = new Int32Array(connections);
  let latencies = new Float64Array(0);
  let recorded = 0;
  let sockets: WebSocket[] = [];
  const fire = (i: number) => {
    sentAt[i] = performance.now();
    sockets[i]!.send(payload);
  };
  sockets = await openAll(
    connections,
    () => `${base}/echo`,
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
  let sockets: WebSocket[] = [];
  const next = () => {
    sent++;
    sockets[0]!.send(JSON.stringify({ text: `m${sent}` }));
  };
  sockets = await openAll(
    members,
    () => `${base}/chat/fanout`,
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
    clients,
    (i) => `${base}/chat/room${Math.floor(i / size)}`,
    () => {
      seen++;
    },
  );
  const phase = async (messages: number) => {
    phaseId++;
    seen = 0;
    const start = performance.now();
    for (let n = 0; n < messages; n++) {
      for (let i = 0; i < clients; i++) sockets[i]!.send(JSON.stringify({ text: `p${phaseId}c${i}-${n}` }));
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
 * 1,000 connections to `/echo` held open and idle, for the memory each costs the server; then 1,000
 * handshakes, 50 at a time, each socket closed once open: connections/s.
 */
async function connect(base: string): Promise<LoadResult> {
  const total = 1000;
  const round = async (count: number) => {
    for (let start = 0; start < count; start += CONNECT_BATCH) {
      closeAll(
        await openAll(
          CONNECT_BATCH,
          () => `${base}/echo`,
          () => {},
        ),
      );
    }
  };
  await round(WARMUP_CONNECT);
  // 1,000 connections held open and idle: what each adds to the server's memory (before the timed
  // handshakes, whose garbage a collection could free mid-measurement).
  const rss = serverRssKb();
  const open = await openAll(
    total,
    () => `${base}/echo`,
    () => {},
  );
  await Bun.sleep(500);
  const kbPerConnection = serverPid ? (serverRssKb() - rss) / total : undefined;
  closeAll(open);
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
 * Fairness: one member of a 100-member room sends 5,000 small frames at once; meanwhile a probe
 * asks `/health` and another one sends to a two-member room, each every 20 ms, one at a time.
 * Reports the burst's deliveries/s and the slowest answer of each probe while it lasted.
 */
async function burst(base: string): Promise<LoadResult> {
  const members = 100;
  const frames = 5000;
  let last = 0;
  const sockets = await openAll(
    members,
    () => `${base}/chat/burst`,
    (i) => {
      if (i === members - 1) last++;
    },
  );
  let heard: (() => void) | null = null;
  const [talker, listener] = await openAll(
    2,
    () => `${base}/chat/quiet`,
    (i) => {
      if (i === 1) heard?.();
    },
  );
  let running = true;
  const probe = async (once: () => Promise<void>) => {
    let slowest = 0;
    while (running) {
      const started = performance.now();
      await once();
      slowest = Math.max(slowest, performance.now() - started);
      await Bun.sleep(20);
    }
    return slowest;
  };
  const health = new URL("/health", base.replace("ws://", "http://"));
  const probes = [
    probe(async () => void (await fetch(health)).body?.cancel()),
    probe(
      () =>
        new Promise<void>((resolve) => {
          heard = resolve;
          talker!.send(JSON.stringify({ text: "probe" }));
        }),
    ),
  ];
  const cpu = serverCpuMs();
  const start = performance.now();
  for (let n = 0; n < frames; n++) sockets[0]!.send(JSON.stringify({ text: `b${n}` }));
  await until(() => last, frames, start + DEADLINE_MS);
  const elapsedMs = performance.now() - start;
  const cpuUs = cpuPer(cpu, last * members);
  running = false;
  const [healthMaxMs, otherRoomMaxMs] = await Promise.all(probes);
  closeAll([...sockets, talker!, listener!]);
  const rate = ((last * members) / elapsedMs) * 1000;
  return { scenario: "burst", rate, missing: frames - last, elapsedMs, cpuUs, healthMaxMs, otherRoomMaxMs };
}

const scenarios = { echo, fanout, rooms, connect, burst } as const;

if (import.meta.main) {
  const [name, base, pid] = process.argv.slice(2);
  serverPid = Number(pid ?? 0);
  const run = scenarios[name as keyof typeof scenarios];
  if (!run || !base?.startsWith("ws://127.0.0.1:")) {
    console.error(
      "usage: bun bench/sockets/load.ts <echo|fanout|rooms|connect|burst> ws://127.0.0.1:<port> [pid]",
    );
    process.exit(2);
  }
  const result = await run(base);
  console.log(JSON.stringify(result));
  process.exit(0);
}
