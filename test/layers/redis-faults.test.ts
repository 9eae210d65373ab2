/**
 * The Redis layer under faults: Redis killed (SIGKILL, like a crash) and restarted empty, mid-traffic.
 * Calls fail fast with LayerUnavailableError instead of hanging, status and onStatus report the
 * outage, the layer reconnects, re-subscribes its groups, and delivery resumes within 2 seconds.
 * Every test here runs on a private redis-server (`own: true`): it is killed and restarted.
 */
import { afterEach, expect, it } from "bun:test";
import type { Context } from "hono";
import Redis from "ioredis";
import {
  type ChannelsEnv,
  createApp,
  JsonConsumer,
  LayerUnavailableError,
  type Logger,
  type Message,
  WebsocketCommunicator,
} from "../../src/index.ts";
import { type LayerStatus, waitUntilUp } from "../../src/layers/layer.ts";
import { RedisChannelLayer } from "../../src/redis.ts";
import { describeWithRedis } from "../_support/redis.ts";

/** A consumer-like local member: joins "room" before connect(), forwards room messages to its client. */
class Room extends JsonConsumer {
  override groups = ["room"];

  async roomMessage(event: Message) {
    await this.sendJson(event);
  }
}

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** Waits until `condition()` holds; false if it did not within `ms`. */
async function until(condition: () => boolean, ms: number): Promise<boolean> {
  const deadline = performance.now() + ms;
  while (!condition()) {
    if (performance.now() >= deadline) return false;
    await Bun.sleep(5);
  }
  return true;
}

/** The error `promise` rejected with, after checking it is the layer's clear "Redis is away" error. */
async function expectUnavailable(promise: Promise<unknown>): Promise<void> {
  const error = await promise.then(
    () => new Error("expected a rejection, but the call succeeded"),
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(LayerUnavailableError);
  expect((error as LayerUnavailableError).code).toBe("LAYER_UNAVAILABLE");
}

describeWithRedis(
  "RedisChannelLayer under Redis faults",
  ({ url, server }) => {
    const open: Array<{ close(): Promise<void> }> = [];
    /** A layer that the test closes afterwards; each test has its own prefix. */
    const layerFor = async (prefix: string) => {
      const layer = new RedisChannelLayer({ url: url(), prefix, logger: quiet });
      open.push(layer);
      await waitUntilUp(layer);
      return layer;
    };
    const prefix = () => `faults-${crypto.randomUUID()}`;

    afterEach(async () => {
      for (const item of open.splice(0)) await item.close();
      // Whatever a test did, the next one starts with Redis up.
      if (!(await pingable(url()))) await server()!.restart();
    });

    it("fails fast while Redis is down, reports it, and resumes delivery within 2 s of its return", async () => {
      const name = prefix();
      const layer = await layerFor(name);
      // Another process's layer: it sends to the room after the outage, so delivery must come
      // through the re-established pub/sub subscription of `layer`.
      const other = await layerFor(name);
      const seen: LayerStatus[] = [];
      layer.onStatus((status) => seen.push(status));

      const client = new WebsocketCommunicator(Room, { path: "/room", layer, logger: quiet });
      expect((await client.connect()).accepted).toBe(true);
      await other.groupSend("room", { type: "room.message", n: 1 });
      expect(await client.receiveJsonFrom()).toEqual({ type: "room.message", n: 1 });

      await server()!.kill();

      // Each call rejects with the clear error instead of hanging (the per-test timeout guards).
      await expectUnavailable(layer.groupSend("room", { type: "room.message", n: 2 }));
      await expectUnavailable(layer.send("worker.jobs", { type: "job", n: 2 }));
      await expectUnavailable(layer.groupAdd("room", "worker.jobs"));
      await expectUnavailable(other.groupSend("room", { type: "room.message", n: 2 }));
      expect(await until(() => layer.status === "down", 2000)).toBe(true);
      expect(seen).toContain("down");
      // The rejected group send reached nobody, not even this process's own member: a rejection
      // means "not delivered", so the caller knows to retry.
      expect(await client.receiveNothing(100)).toBe(true);

      await server()!.restart();
      const back = performance.now();
      expect(await until(() => layer.status === "up" && other.status === "up", 2000)).toBe(true);
      expect(seen.at(-1)).toBe("up");
      // The first group send after the status says "up" must arrive: no retry loop here.
      await other.groupSend("room", { type: "room.message", n: 3 });
      const left = 2000 - (performance.now() - back);
      expect(await client.receiveJsonFrom(Math.max(left, 1))).toEqual({ type: "room.message", n: 3 });
      const resumedMs = performance.now() - back;
      console.info(`redis-faults: delivery resumed ${resumedMs.toFixed(0)} ms after Redis came back`);
      expect(resumedMs).toBeLessThan(2000);
      // Nothing from the outage shows up late.
      expect(await client.receiveNothing(200)).toBe(true);

      // Plain channels work again too (Redis restarted empty: the scripts are reloaded).
      await other.send("worker.jobs", { type: "job", n: 4 });
      expect(await layer.receive("worker.jobs")).toEqual({ type: "job", n: 4 });

      // So do direct sends to this process's consumer from another process (its inbox list).
      await other.send(client.channelName, { type: "room.message", n: 5 });
      expect(await client.receiveJsonFrom(2000)).toEqual({ type: "room.message", n: 5 });

      await client.disconnect();
      expect(layer.size).toEqual({ channels: 0, groups: 0, memberships: 0, subscriptions: 0 });
    }, 15_000);

    it("keeps a join ahead of the group send made after it, on a Redis that restarted without its scripts", async () => {
      const layer = await layerFor(prefix());
      await server()!.kill();
      await server()!.restart();
      expect(await until(() => layer.status === "up", 2000)).toBe(true);
      // The group send's script is back in Redis's cache, the join's would not be: its call would
      // send the source only once Redis said it was missing, and the send made after it overtook it.
      await layer.groupSend("room", { type: "warm.up" });
      await Promise.all([
        layer.groupAdd("room", "worker.late"),
        layer.groupSend("room", { type: "after.join" }),
      ]);
      expect(await layer.queued("worker.late")).toBe(1);
      expect((await layer.receive("worker.late")).type).toBe("after.join");
    }, 15_000);

    it("leaves no pub/sub subscription behind when a member leaves while Redis is down", async () => {
      const name = prefix();
      const layer = await layerFor(name);
      const client = new WebsocketCommunicator(Room, { path: "/room", layer, logger: quiet });
      expect((await client.connect()).accepted).toBe(true);
      expect(layer.size.subscriptions).toBe(1);

      await server()!.kill();
      // The socket ends during the outage: leaving the group cannot reach Redis, and must not fail.
      await client.disconnect();
      expect(layer.size).toEqual({ channels: 0, groups: 0, memberships: 0, subscriptions: 0 });

      await server()!.restart();
      expect(await until(() => layer.status === "up", 2000)).toBe(true);
      // The reconnected subscriber must not re-subscribe a group with no local member.
      const redis = new Redis(url(), { lazyConnect: true });
      try {
        await redis.connect();
        await Bun.sleep(100);
        const [, subscribers] = (await redis.pubsub("NUMSUB", `${name}:gpub:room`)) as [string, number];
        expect(subscribers).toBe(0);
      } finally {
        redis.disconnect();
      }
    }, 15_000);

    it("keeps a worker's waiting receive() through the outage and hands it the next message", async () => {
      const name = prefix();
      const layer = await layerFor(name);
      const other = await layerFor(name);
      const waiting = layer.receive("worker.jobs");
      // Observe the outcome now, so a rejection during the outage is recorded, not unhandled.
      const outcome = waiting.then(
        (message) => ({ message }),
        (error: unknown) => ({ error }),
      );
      await Bun.sleep(50); // the BLPOP is on the wire

      await server()!.kill();
      await server()!.restart();
      expect(await until(() => other.status === "up", 2000)).toBe(true);
      await other.send("worker.jobs", { type: "job", n: 1 });

      expect(await outcome).toEqual({ message: { type: "job", n: 1 } });
    }, 15_000);

    it("answers 503 LAYER_UNAVAILABLE from an HTTP view while Redis is down, 200 once it is back", async () => {
      const layer = await layerFor(prefix());
      const POST = async (c: Context<ChannelsEnv>) => {
        await c.var.layer.groupSend("room", { type: "room.message", from: "http" });
        return c.json({ ok: true });
      };
      const app = createApp({
        manifest: { routes: [{ file: "x.ts", module: { POST } }], consumers: [] },
        layer,
        logger: quiet,
      });
      const post = () => app.request("/x", { method: "POST" });

      const before = await post();
      expect(before.status).toBe(200);
      expect(await before.json()).toEqual({ ok: true });

      await server()!.kill();
      const during = await post();
      expect(during.status).toBe(503);
      expect(during.headers.get("content-type")).toContain("application/json");
      expect(((await during.json()) as { error: string }).error).toBe("LAYER_UNAVAILABLE");

      await server()!.restart();
      expect(await until(() => layer.status === "up", 2000)).toBe(true);
      const after = await post();
      expect(after.status).toBe(200);
      expect(await after.json()).toEqual({ ok: true });
    }, 15_000);
  },
  { own: true },
);

/** Whether a Redis answers at `url` (a short-lived client that never retries). */
async function pingable(url: string): Promise<boolean> {
  const redis = new Redis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  redis.on("error", () => {});
  try {
    await redis.connect();
    return (await redis.ping()) === "PONG";
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}
