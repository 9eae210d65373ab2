/**
 * Throughput of `send` / `receive` on one channel, memory layer vs Redis layer, in one process:
 * sequential awaited sends, 32 concurrent senders, a producer/consumer pair, and (Redis) sends to a
 * consumer's channel owned by another layer instance, which go through that instance's inbox.
 *
 *   bun bench/send-receive.ts          [ROUND_MS=500 ROUNDS=5]
 */

import Redis from "ioredis";
import { type ChannelLayer, Consumer, InMemoryChannelLayer, WebsocketCommunicator } from "../src/index.ts";
import { waitUntilUp } from "../src/layers/layer.ts";
import { RedisChannelLayer } from "../src/redis.ts";
import { fmt, machine, quietLogger, startRedis, summarize, table } from "./_support.ts";

const ROUND_MS = Number(process.env.ROUND_MS ?? 500);
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const CHANNEL = "bench.queue";
// Sends without a reader must never hit ChannelFull: the buffer is the point of the measurement.
const options = { capacity: 10_000_000, logger: quietLogger };

/** Messages per second of one round; `run(deadline)` returns how many messages it moved. */
async function rate(
  layer: { flush(): unknown },
  run: (deadline: number) => Promise<number>,
): Promise<number> {
  const rates: number[] = [];
  await run(performance.now() + 200); // warm-up
  await layer.flush();
  for (let round = 0; round < ROUNDS; round++) {
    const start = performance.now();
    const count = await run(start + ROUND_MS);
    rates.push(count / ((performance.now() - start) / 1000));
    await layer.flush();
  }
  return summarize(rates).median;
}

/** Awaits each send before the next, nobody reading. */
function sequential(layer: ChannelLayer) {
  return async (deadline: number) => {
    let count = 0;
    while (performance.now() < deadline) await layer.send(CHANNEL, { type: "bench.msg", n: count++ });
    return count;
  };
}

/** `width` senders in parallel, each awaiting its own sends, nobody reading. */
function concurrent(layer: ChannelLayer, width: number) {
  return async (deadline: number) => {
    let count = 0;
    const sender = async () => {
      while (performance.now() < deadline) await layer.send(CHANNEL, { type: "bench.msg", n: count++ });
    };
    await Promise.all(Array.from({ length: width }, sender));
    return count;
  };
}

/** A producer awaiting sends and a consumer awaiting receives; a last `bench.end` stops the consumer. */
function pair(layer: ChannelLayer) {
  return async (deadline: number) => {
    let received = 0;
    const producer = async () => {
      for (let n = 0; performance.now() < deadline; n++) await layer.send(CHANNEL, { type: "bench.msg", n });
      await layer.send(CHANNEL, { type: "bench.end" });
    };
    const consumer = async () => {
      while ((await layer.receive(CHANNEL)).type !== "bench.end") received++;
    };
    await Promise.all([producer(), consumer()]);
    return received;
  };
}

/** A consumer counting the messages its handler ran for. */
class Counter extends Consumer {
  static handled = 0;
  benchMsg(): void {
    Counter.handled++;
  }
}

/** `width` senders from `layer` to a Counter consumer on `owner`, until its handler ran for every message. */
async function toConsumer(layer: ChannelLayer, owner: ChannelLayer, width: number) {
  const member = new WebsocketCommunicator(Counter, { layer: owner, logger: quietLogger });
  await member.connect();
  const run = async (deadline: number) => {
    Counter.handled = 0;
    let sent = 0;
    const sender = async () => {
      while (performance.now() < deadline)
        await layer.send(member.channelName, { type: "bench.msg", n: sent++ });
    };
    await Promise.all(Array.from({ length: width }, sender));
    const giveUp = performance.now() + 10_000;
    while (Counter.handled < sent) {
      if (performance.now() > giveUp) throw new Error(`${Counter.handled} of ${sent} messages handled`);
      await Bun.sleep(0);
    }
    return sent;
  };
  const result = await rate(layer, run);
  await member.disconnect();
  return result;
}

async function main(): Promise<void> {
  const redis = await startRedis();
  const memory = new InMemoryChannelLayer(options);
  const layer = new RedisChannelLayer({ ...options, url: redis.url });
  const owner = new RedisChannelLayer({ ...options, url: redis.url });
  const client = new Redis(redis.url);
  try {
    await Promise.all([waitUntilUp(layer), waitUntilUp(owner)]);
    const results: Array<[string, number, number]> = [];
    // The floor under any Redis round trip from this client, measured in this run: no layer, no script.
    const ping = await rate({ flush() {} }, async (deadline) => {
      let count = 0;
      for (; performance.now() < deadline; count++) await client.ping();
      return count;
    });
    for (const [name, make] of [
      ["sequential `send`s, nobody reading", sequential],
      ["32 concurrent senders, nobody reading", (l: ChannelLayer) => concurrent(l, 32)],
      ["producer/consumer pair (`send` + `receive`)", pair],
    ] as const) {
      results.push([name, await rate(memory, make(memory)), await rate(layer, make(layer))]);
    }
    for (const width of [1, 32]) {
      results.push([
        `${width === 1 ? "sequential `send`s" : `${width} concurrent senders`} to a consumer's channel, until handled`,
        await toConsumer(memory, memory, width),
        await toConsumer(layer, owner, width),
      ]);
    }

    console.log(`### send / receive throughput on one channel\n\n${machine(redis.version)}.`);
    console.log(`Median of ${ROUNDS} rounds of ${ROUND_MS / 1000} s after a 0.2 s warm-up; one process.\n`);
    const rows = results.map(([name, mem, red]) => [
      name,
      `${fmt(mem)}/s`,
      `${fmt(red)}/s`,
      `${fmt(mem / red, 1)}×`,
    ]);
    rows.push(["sequential ioredis `PING`s (Redis round-trip floor, no layer)", "–", `${fmt(ping)}/s`, "–"]);
    console.log(table(["scenario", "memory", "Redis", "memory ÷ Redis"], rows));
    const [, memorySeq, redisSeq] = results[0]!;
    const versus = [
      "sequential `send`s, Redis",
      `${fmt(redisSeq)}/s`,
      "2,000-4,000/s",
      `${fmt(redisSeq / 4000, 1)}-${fmt(redisSeq / 2000, 1)}×`,
      `${fmt(redisSeq / memorySeq, 3)}×`,
      `${fmt(redisSeq / ping, 2)}×`,
    ];
    const headers =
      "figure|ours (median)|channels_redis 4.x (issue)|÷ channels_redis|÷ memory (same run)|÷ PING";
    console.log(`\n${table(headers.split("|"), [versus])}`);
  } finally {
    await Promise.all([layer.close(), owner.close(), memory.close(), client.quit()]);
    await redis.stop();
  }
}

await main();
