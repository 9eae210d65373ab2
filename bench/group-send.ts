/**
 * groupSend latency until the LAST member's handler ran: groups of 1, 100 and 1,000 `Member`
 * consumers driven through the runner (WebsocketCommunicator), in 1 process (memory, Redis) and
 * spread over 3 processes (Redis; 2 child `bun` processes report arrival over IPC), and in 1
 * process on the channels_redis wire layer (`CHANNEL_LAYER=channels_redis`).
 *
 *   bun bench/group-send.ts            [ITERATIONS=200 WARMUP=30]
 */

import Redis from "ioredis";
import { type ChannelLayer, InMemoryChannelLayer } from "../src/index.ts";
import { waitUntilUp } from "../src/layers/layer.ts";
import { ChannelsRedisLayer, RedisChannelLayer } from "../src/redis.ts";
import { Child } from "./_child.ts";
import {
  arrivals,
  fmt,
  host,
  machine,
  now,
  quietLogger,
  release,
  startRedis,
  summarize,
  table,
} from "./_support.ts";

const ITERATIONS = Number(process.env.ITERATIONS ?? 200);
const WARMUP = Number(process.env.WARMUP ?? 30);
const SIZES = [1, 100, 1000];

let nextSeq = 0;
/** Per seq: processes still to report, the latest arrival, and who waits for it. */
const pending = new Map<number, { left: number; last: number; done: () => void }>();
function arrived(seq: number, time: number): void {
  const entry = pending.get(seq);
  if (!entry) throw new Error(`arrival for unknown message ${seq}`);
  entry.last = Math.max(entry.last, time);
  if (--entry.left === 0) entry.done();
}

/** Latencies (shared clock) and round trips (until the sender heard from every process), in ms. */
async function measure(layer: ChannelLayer, group: string, processes: number) {
  const latency: number[] = [];
  const heard: number[] = [];
  for (let i = 0; i < WARMUP + ITERATIONS; i++) {
    const seq = nextSeq++;
    let entry!: { left: number; last: number; done: () => void };
    const done = new Promise<void>((resolve) => {
      entry = { left: processes, last: 0, done: resolve };
    });
    pending.set(seq, entry);
    const timeout = setTimeout(() => console.error(`message ${seq} still missing after 5 s`), 5000);
    const start = now();
    await layer.groupSend(group, { type: "bench.ping", seq });
    await done;
    const end = now();
    clearTimeout(timeout);
    pending.delete(seq);
    if (i >= WARMUP) {
      latency.push(entry.last - start);
      heard.push(end - start);
    }
  }
  return { latency: summarize(latency), heard: summarize(heard) };
}

/** The floor under the Redis rows, in this run: a raw ioredis PUBLISH to a subscriber of this process. */
async function pubsubFloor(url: string) {
  const [publisher, subscriber] = [new Redis(url), new Redis(url)];
  await subscriber.subscribe("bench.floor");
  let arrivedAt = (_time: number) => {};
  subscriber.on("message", () => arrivedAt(now()));
  const latency: number[] = [];
  for (let i = 0; i < WARMUP + ITERATIONS; i++) {
    const arrival = new Promise<number>((resolve) => {
      arrivedAt = resolve;
    });
    const start = now();
    await publisher.publish("bench.floor", "{}");
    if (i >= WARMUP) latency.push((await arrival) - start);
    else await arrival;
  }
  publisher.disconnect();
  subscriber.disconnect();
  return summarize(latency);
}

async function main(): Promise<void> {
  const redis = await startRedis();
  const rows: string[][] = [];
  const results = new Map<string, number>();
  arrivals.onLast = arrived;
  const memory = new InMemoryChannelLayer({ logger: quietLogger });
  const layer = new RedisChannelLayer({ url: redis.url, logger: quietLogger });
  const wire = new ChannelsRedisLayer({ url: redis.url, logger: quietLogger, capacity: 10_000 });
  const children: Child[] = [];
  try {
    await waitUntilUp(layer);
    await waitUntilUp(wire);
    children.push(new Child(redis.url, arrived), new Child(redis.url, arrived));
    await Promise.all(children.map((child) => child.next()));
    for (const child of children) await child.syncClock();
    const scenarios = [
      ...SIZES.map((size) => ({ name: "memory", layer: memory, spread: 1, size })),
      ...SIZES.map((size) => ({ name: "redis", layer, spread: 1, size })),
      ...SIZES.map((size) => ({ name: "redis", layer, spread: 3, size })),
      ...SIZES.map((size) => ({ name: "channels_redis", layer: wire, spread: 1, size })),
    ];
    for (const { name, layer: sender, spread, size } of scenarios) {
      const group = `bench.${name}.${spread}.${size}`;
      // 3 processes: the children take their shares first, so a group of 1 lives in another process.
      const first = spread === 3 ? Math.ceil(size / 3) : 0;
      const second = spread === 3 ? Math.ceil((size - first) / 2) : 0;
      const shares = [size - first - second, first, second];
      if (spread === 3) {
        await Promise.all(
          children.map((child, i) => child.ask({ cmd: "host", group, count: shares[i + 1] })),
        );
      }
      arrivals.expected = shares[0]!;
      const local = await host(sender, group, shares[0]!);
      const { latency, heard } = await measure(sender, group, shares.filter((share) => share > 0).length);
      await release(local);
      if (spread === 3) await Promise.all(children.map((child) => child.ask({ cmd: "release" })));
      results.set(`${name}.${spread}.${size}`, latency.median);
      rows.push([
        { memory: "memory", redis: "Redis", channels_redis: "channels_redis wire" }[name]!,
        spread === 1 ? "1" : `3 (${shares.join(" + ")})`,
        fmt(size),
        `${fmt(latency.median, 3)} ms`,
        `${fmt(latency.p95, 3)} ms`,
        `${fmt(heard.median, 3)} ms`,
      ]);
    }
    const floor = await pubsubFloor(redis.url);
    const [median, p95] = [floor.median, floor.p95].map((value) => `${fmt(value, 3)} ms`);
    rows.push(["raw ioredis PUBLISH → subscriber (floor, no layer)", "1", "–", median!, p95!, median!]);
    console.log(`### groupSend until the last member's handler ran\n\n${machine(redis.version)}.`);
    console.log(`${ITERATIONS} messages per row after ${WARMUP} warm-up, one at a time.\n`);
    console.log(
      table("layer|processes (members each)|members|median|p95|sender heard back (median)".split("|"), rows),
    );
    const clocks = children.map((c) => `${fmt(c.offset * 1000)} µs (rtt ${fmt(c.rtt * 1000)} µs)`);
    console.log(`\nChild clock offsets, corrected for: ${clocks.join(", ")}.\n`);
    const memoryBaseline = results.get("memory.1.1000")!;
    const python = channelsRedisInPython(redis.url);
    const reference = python?.["1000"]?.median ?? 5.5;
    const referenceLabel = python ? "channels_redis 4.x, this run" : "channels_redis 4.x (quoted)";
    if (python) {
      const pythonRows = SIZES.map((size) => {
        const { median, p95 } = python[String(size)]!;
        return [
          "channels_redis (Python, layer calls only)",
          "1",
          fmt(size),
          `${fmt(median, 3)} ms`,
          `${fmt(p95, 3)} ms`,
        ];
      });
      console.log(table("layer|processes|members|median|p95".split("|"), pythonRows));
      console.log();
    }
    const versus = [
      ["Redis, 1 process", "redis.1.1000"],
      ["Redis, 3 processes", "redis.3.1000"],
      ["channels_redis wire, 1 process", "channels_redis.1.1000"],
      ["memory (in-process baseline)", "memory.1.1000"],
    ].map(([label, key]) => {
      const ours = results.get(key!)!;
      return [
        label!,
        `${fmt(ours, 3)} ms`,
        `${fmt(reference, 3)} ms`,
        `${fmt(ours / reference, 2)}×`,
        `${fmt(ours / memoryBaseline, 1)}×`,
      ];
    });
    console.log(
      table(
        `groupSend to 1,000 members|ours (median)|${referenceLabel}|÷ channels_redis|÷ memory`.split("|"),
        versus,
      ),
    );
  } finally {
    await Promise.all(children.map((child) => child.exit()));
    await layer.close();
    await wire.close();
    await memory.close();
    await redis.stop();
  }
}

/**
 * channels_redis itself (bench/python/group_send.py) on the same Redis, when Debian's Python
 * packages are installed; null otherwise (the table then quotes the 5.5 ms).
 */
function channelsRedisInPython(url: string): Record<string, { median: number; p95: number }> | null {
  const script = new URL("./python/group_send.py", import.meta.url).pathname;
  const run = Bun.spawnSync(["/usr/bin/python3", script, url, String(ITERATIONS), String(WARMUP)]);
  if (run.exitCode !== 0) {
    console.error(`channels_redis not measured: ${run.stderr.toString().trim().split("\n").at(-1)}`);
    return null;
  }
  return JSON.parse(run.stdout.toString());
}

await main();
