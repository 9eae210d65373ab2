/**
 * The Redis layer does not leak: connections that come and go leave this process's maps and Redis
 * as they were, and whatever a process stores in Redis (plain-channel memberships, queued messages)
 * carries a TTL, so a process that dies leaves nothing that outlasts groupExpiry.
 */
import { afterEach, expect, it } from "bun:test";
import Redis from "ioredis";
import { Consumer, type Logger, WebsocketCommunicator } from "../../src/index.ts";
import { waitUntilUp } from "../../src/layers/layer.ts";
import { RedisChannelLayer } from "../../src/redis.ts";
import { describeWithRedis } from "../_support/redis.ts";

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** Joins a declared group before connect() and one more group from connect(). */
class Member extends Consumer {
  override groups = ["declared"];

  override async connect() {
    await this.groupAdd("extra");
    await this.accept();
  }
}

/** Every key under `prefix`, by SCAN (never KEYS). */
async function keysOf(redis: Redis, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = "0";
  do {
    const [next, batch] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== "0");
  return keys.sort();
}

async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info("memory");
  return Number(/^used_memory:(\d+)/m.exec(info)?.[1]);
}

/** Waits until `condition()` resolves true; false if it did not within `ms`. */
async function until(condition: () => Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = performance.now() + ms;
  while (!(await condition())) {
    if (performance.now() >= deadline) return false;
    await Bun.sleep(20);
  }
  return true;
}

describeWithRedis("RedisChannelLayer leaks", ({ url }) => {
  const layers: RedisChannelLayer[] = [];
  const clients: Redis[] = [];
  const prefix = () => `leaks-${crypto.randomUUID()}`;
  const layerFor = async (options: { prefix: string; expiry?: number; groupExpiry?: number }) => {
    const layer = new RedisChannelLayer({ url: url(), logger: quiet, ...options });
    layers.push(layer);
    await waitUntilUp(layer);
    return layer;
  };
  const client = async () => {
    const redis = new Redis(url());
    clients.push(redis);
    await redis.ping();
    return redis;
  };

  afterEach(async () => {
    for (const layer of layers.splice(0)) await layer.close();
    for (const redis of clients.splice(0)) redis.disconnect();
  });

  it("10,000 connect/disconnect cycles leave the layer's maps, the keyspace and Redis memory as they were", async () => {
    const name = prefix();
    const layer = await layerFor({ prefix: name });
    const redis = await client();
    const startSize = layer.size;
    const startKeys = await keysOf(redis, name);
    const startMemory = await usedMemory(redis);

    const CYCLES = 10_000;
    const BATCH = 10; // a few connections overlap, as on a server; batches run one after another
    for (let done = 0; done < CYCLES; done += BATCH) {
      const members = Array.from(
        { length: BATCH },
        () => new WebsocketCommunicator(Member, { path: "/member", layer, logger: quiet }),
      );
      const results = await Promise.all(members.map((member) => member.connect()));
      if (!results.every((result) => result.accepted)) throw new Error(`cycle ${done}: a connect failed`);
      if (done === 0) {
        // While connected, they are counted: the check below is not vacuous.
        expect(layer.size).toEqual({ channels: BATCH, groups: 2, memberships: 2 * BATCH, subscriptions: 2 });
      }
      await Promise.all(members.map((member) => member.disconnect()));
    }

    expect(startSize).toEqual({ channels: 0, groups: 0, memberships: 0, subscriptions: 0 });
    expect(layer.size).toEqual(startSize);
    expect(await keysOf(redis, name)).toEqual(startKeys);
    const [, subscribers] = (await redis.pubsub("NUMSUB", `${name}:gpub:declared`)) as [string, number];
    expect(subscribers).toBe(0);
    // Nothing is stored, yet used_memory moves a little with the server's own bookkeeping (client
    // buffers, pub/sub dicts): measured growth is about 13 KB (13,120-13,152 bytes). The bound is 256 KiB,
    // some 20 times that, and below what anything kept per cycle would cost: 10,000 entries of even
    // 32 bytes (a key, a zset member, a subscription) come to 320 KB.
    const growth = (await usedMemory(redis)) - startMemory;
    console.info(`redis-leaks: used_memory grew by ${growth} bytes over ${CYCLES} cycles`);
    expect(growth).toBeLessThan(256 * 1024);
  }, 60_000);

  it("gives every stored membership and queued message a TTL within groupExpiry / expiry", async () => {
    const name = prefix();
    const expiry = 30;
    const groupExpiry = 120;
    const layer = await layerFor({ prefix: name, expiry, groupExpiry });
    const redis = await client();

    await layer.groupAdd("jobs", "worker.a");
    await layer.groupAdd("jobs", "worker.b");
    await layer.send("worker.a", { type: "job", n: 1 });
    await layer.groupSend("jobs", { type: "job", n: 2 });
    // A channel of another process (here one that no longer exists): memberships in Redis, and
    // messages on that process's inbox list.
    await layer.groupAdd("rooms", "specific.deadbeef0000!abc");
    await layer.send("specific.deadbeef0000!abc", { type: "room.message", n: 3 });
    await layer.groupSend("rooms", { type: "room.message", n: 4 });
    // A receive() given up on just before a message arrives puts the message back: that list, too,
    // must expire.
    const controller = new AbortController();
    const waiting = layer.receive("worker.c", { signal: controller.signal }).catch(() => null);
    await Bun.sleep(50);
    controller.abort();
    expect(await waiting).toBeNull();
    await layer.send("worker.c", { type: "job", n: 5 });
    await Bun.sleep(1200); // the abandoned BLPOP (1 s blocks) takes the message and puts it back

    const keys = await keysOf(redis, name);
    expect(keys).toEqual([
      `${name}:ch:worker.a`,
      `${name}:ch:worker.b`,
      `${name}:ch:worker.c`,
      `${name}:group:jobs`,
      `${name}:group:rooms`,
      `${name}:inbox:deadbeef0000`,
    ]);
    for (const key of keys) {
      const ttl = await redis.pttl(key);
      const bound = key.includes(":group:") ? groupExpiry * 1000 : expiry * 1000;
      expect({ key, ttl, positive: ttl > 0, within: ttl <= bound }).toEqual({
        key,
        ttl,
        positive: true,
        within: true,
      });
    }
    // The message put back is still there for the next receive().
    expect(await layer.receive("worker.c")).toEqual({ type: "job", n: 5 });
  }, 15_000);

  it("a SIGKILLed process leaves only keys that expire within groupExpiry, and no subscription", async () => {
    const name = prefix();
    const expiry = 1;
    const groupExpiry = 2;
    const index = new URL("../../src/redis.ts", import.meta.url).pathname;
    const layerModule = new URL("../../src/layers/layer.ts", import.meta.url).pathname;
    const script = `
      import { RedisChannelLayer } from ${JSON.stringify(index)};
      import { waitUntilUp } from ${JSON.stringify(layerModule)};
      const layer = new RedisChannelLayer({
        url: ${JSON.stringify(url())}, prefix: ${JSON.stringify(name)}, expiry: ${expiry}, groupExpiry: ${groupExpiry},
      });
      await waitUntilUp(layer);
      const local = await layer.newChannel();
      layer.listen(local, { push() {}, backlog: 0 });
      await layer.groupAdd("room", local);
      await layer.groupAdd("room", "worker.child");
      await layer.groupAdd("jobs", "worker.child");
      await layer.send("worker.child", { type: "job", n: 1 });
      await layer.groupSend("room", { type: "room.message", n: 2 });
      void layer.receive("worker.idle").catch(() => {}); // a worker blocked in BLPOP when it dies
      console.log("ready " + local);
      setInterval(() => {}, 1000);
    `;
    const child = Bun.spawn(["bun", "-e", script], { stdout: "pipe", stderr: "pipe" });
    try {
      const line = await firstLine(child.stdout);
      if (!line.startsWith("ready "))
        throw new Error(`the child failed: ${await new Response(child.stderr).text()}`);
      const childChannel = line.slice("ready ".length);
      const layer = await layerFor({ prefix: name, expiry, groupExpiry });
      const redis = await client();
      // Another process adds the child's channel to a group (a membership stored in Redis).
      await layer.groupAdd("lobby", childChannel);
      const [, before] = (await redis.pubsub("NUMSUB", `${name}:gpub:room`)) as [string, number];
      expect(before).toBe(1);

      child.kill("SIGKILL");
      await child.exited;
      // Traffic still addressed to the dead process queues on its inbox; it must expire too.
      await layer.send(childChannel, { type: "room.message", n: 3 });
      await layer.groupSend("lobby", { type: "room.message", n: 4 });

      // Redis drops the dead process's subscriptions with its connections.
      expect(
        await until(async () => {
          const [, after] = (await redis.pubsub("NUMSUB", `${name}:gpub:room`)) as [string, number];
          return after === 0;
        }, 2000),
      ).toBe(true);
      const keys = await keysOf(redis, name);
      expect(keys.length).toBeGreaterThan(0);
      for (const key of keys) {
        const ttl = await redis.pttl(key);
        expect({ key, positive: ttl > 0, within: ttl <= groupExpiry * 1000 }).toEqual({
          key,
          positive: true,
          within: true,
        });
      }
      // And after groupExpiry nothing is left.
      expect(
        await until(async () => (await keysOf(redis, name)).length === 0, groupExpiry * 1000 + 500),
      ).toBe(true);
    } finally {
      child.kill("SIGKILL");
      await child.exited;
    }
  }, 20_000);
});

/** The first line a child prints, or everything it printed if it exits first. */
async function firstLine(stream: ReadableStream<Uint8Array>): Promise<string> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let text = "";
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return text;
      text += decoder.decode(value, { stream: true });
      const end = text.indexOf("\n");
      if (end >= 0) return text.slice(0, end);
    }
  } finally {
    reader.releaseLock();
  }
}
