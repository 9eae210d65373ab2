/**
 * The cluster backplane against the single-Redis one, in the same run: group sends spread over 1
 * and 3 shards, and what one group message costs (latency, throughput, Redis CPU).
 *
 *   bun bench/redis-cluster.ts          [ROUND_MS=1000 ROUNDS=5 ITERATIONS=500]
 *
 * Starts its own redis-server and its own 3-primary cluster on free ports (never 6379).
 * One process: the sender and every member (a consumer per group, run through the runner) share
 * it, so every message still goes through Redis: script, (S)PUBLISH, the subscriber, the fan-out.
 */
import Redis from "ioredis";
import { Consumer, WebsocketCommunicator } from "../src/index.ts";
import { waitUntilUp } from "../src/layers/layer.ts";
import { RedisChannelLayer, RedisClusterChannelLayer } from "../src/redis.ts";
import { type RedisClusterProcess, startRedisCluster } from "../test/_support/redis-cluster.ts";
import { fmt, machine, now, quietLogger, startRedis, summarize, table } from "./_support.ts";

const ROUND_MS = Number(process.env.ROUND_MS ?? 1000);
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const ITERATIONS = Number(process.env.ITERATIONS ?? 500);
/** Groups per scenario, one member each, and concurrent senders. */
const GROUPS = 12;
const SENDERS = 32;

let handled = 0;
let onHandled = () => {};

/** One member per group: counts what it handled. */
class Counter extends Consumer {
  override async connect(): Promise<void> {
    await this.groupAdd(this.scope.params.group as string);
    await this.accept();
  }

  benchTick(): void {
    handled++;
    onHandled();
  }
}

type Layer = RedisChannelLayer | RedisClusterChannelLayer;

/** Group names whose slots are on one shard, or spread evenly over all three. */
async function groupNames(cluster: RedisClusterProcess, spread: 1 | 3, tag: string): Promise<string[]> {
  const names: string[] = [];
  const perShard = new Map<number, number>();
  for (let i = 0; names.length < GROUPS; i++) {
    const name = `bench.${tag}.${i}`;
    const { shard } = await cluster.shardOf(name);
    const index = cluster.shards.indexOf(shard);
    if (spread === 1 && index !== 0) continue;
    if (spread === 3 && (perShard.get(index) ?? 0) >= GROUPS / 3) continue;
    perShard.set(index, (perShard.get(index) ?? 0) + 1);
    names.push(name);
  }
  return names;
}

/** `count` sequential groupSends to one group of one member: ms each until its handler ran. */
async function latencies(layer: Layer, group: string, count: number): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const arrived = new Promise<void>((resolve) => {
      onHandled = resolve;
    });
    const start = now();
    await layer.groupSend(group, { type: "bench.tick" });
    await arrived;
    samples.push(now() - start);
  }
  onHandled = () => {};
  return samples;
}

/** One round: SENDERS loops sending round-robin over `groups` for ROUND_MS; handled per second and count. */
async function throughputRound(layer: Layer, groups: string[]): Promise<{ rate: number; count: number }> {
  const before = handled;
  let sent = 0;
  const start = now();
  await Promise.all(
    Array.from({ length: SENDERS }, async (_, s) => {
      for (let i = s; now() - start < ROUND_MS; i += SENDERS) {
        await layer.groupSend(groups[i % groups.length] as string, { type: "bench.tick" });
        sent++;
      }
    }),
  );
  while (handled - before < sent) await Bun.sleep(1);
  return { rate: ((handled - before) / (now() - start)) * 1000, count: handled - before };
}

/** CPU seconds (user + sys) that the Redis servers at `ports` used so far. */
async function redisCpu(ports: number[]): Promise<number> {
  let total = 0;
  for (const port of ports) {
    const redis = new Redis({ port, host: "127.0.0.1" });
    const info = await redis.info("cpu");
    redis.disconnect();
    total +=
      Number(/used_cpu_user:([\d.]+)/.exec(info)?.[1]) + Number(/used_cpu_sys:([\d.]+)/.exec(info)?.[1]);
  }
  return total;
}

async function main(): Promise<void> {
  const single = await startRedis();
  const cluster = await startRedisCluster();
  process.once("exit", () => void cluster.stop());
  const singlePort = Number(new URL(single.url).port);
  const clusterPorts = cluster.shards.map((shard) => shard.port);
  const layers = {
    single: new RedisChannelLayer({ url: single.url, logger: quietLogger }),
    cluster: new RedisClusterChannelLayer({ nodes: cluster.nodes, logger: quietLogger }),
  };
  const members: WebsocketCommunicator[] = [];
  try {
    await Promise.all(Object.values(layers).map((layer) => waitUntilUp(layer)));
    const spreads = { 1: await groupNames(cluster, 1, "one"), 3: await groupNames(cluster, 3, "three") };
    for (const layer of Object.values(layers)) {
      for (const group of [...spreads[1], ...spreads[3]]) {
        const member = new WebsocketCommunicator(Counter, { params: { group }, layer, logger: quietLogger });
        if (!(await member.connect(5000)).accepted) throw new Error("a member refused to connect");
        members.push(member);
      }
    }
    const scenarios: Array<[string, Layer, string[], number[]]> = [
      ["single Redis", layers.single, spreads[3], [singlePort]],
      ["cluster, groups on 1 shard", layers.cluster, spreads[1], clusterPorts],
      ["cluster, groups on 3 shards", layers.cluster, spreads[3], clusterPorts],
    ];
    // Rounds alternate between the scenarios, so a noisy moment of the shared machine hits all three.
    const results = scenarios.map(() => ({
      latency: [] as number[],
      rates: [] as number[],
      cpu: 0,
      count: 0,
    }));
    for (const [layer, groups] of scenarios.map(([, layer, groups]) => [layer, groups] as const)) {
      await latencies(layer, groups[0] as string, 30); // warm-up
    }
    for (let round = 0; round < ROUNDS; round++) {
      for (const [i, [, layer, groups, ports]] of scenarios.entries()) {
        const result = results[i] as (typeof results)[number];
        result.latency.push(...(await latencies(layer, groups[0] as string, Math.ceil(ITERATIONS / ROUNDS))));
        const cpuBefore = await redisCpu(ports);
        const { rate, count } = await throughputRound(layer, groups);
        result.cpu += (await redisCpu(ports)) - cpuBefore;
        result.count += count;
        result.rates.push(rate);
      }
    }
    const figures = results.map((result) => ({
      ...summarize(result.latency),
      rate: summarize(result.rates).median,
      cpu: result.cpu / result.count,
    }));
    const base = figures[0] as (typeof figures)[number];
    const rows = figures.map((figure, i) => [
      (scenarios[i] as (typeof scenarios)[number])[0],
      `${fmt(figure.median, 3)} ms`,
      `${fmt(figure.p95, 3)} ms`,
      `${fmt(figure.median / base.median, 2)}×`,
      `${fmt(figure.rate)}/s`,
      `${fmt(figure.rate / base.rate, 2)}×`,
      `${fmt(figure.cpu * 1e6, 1)} µs`,
      `${fmt(figure.cpu / base.cpu, 2)}×`,
    ]);
    console.log(
      `### Cluster backplane vs single Redis\n\n${machine(single.version)}, cluster of 3 primaries.`,
    );
    console.log(
      `Latency: ${ITERATIONS} sequential groupSends to a group of 1 member, until its handler ran. ` +
        `Throughput: ${SENDERS} concurrent senders round-robin over ${GROUPS} groups of 1 member, ` +
        `${ROUNDS} rounds of ${ROUND_MS} ms, median round, counted when handled. ` +
        "The scenarios alternate round by round. " +
        "Redis CPU: user + sys of every redis-server of the row (INFO cpu) per message handled.\n",
    );
    console.log(
      table(
        "backplane|latency median|p95|÷ single|throughput|÷ single|Redis CPU per message|÷ single".split("|"),
        rows,
      ),
    );
  } finally {
    for (const member of members) await member.disconnect(1000, 5000).catch(() => {});
    for (const layer of Object.values(layers)) await layer.close();
    await single.stop();
    await cluster.stop();
  }
}

await main();
process.exit(0);
