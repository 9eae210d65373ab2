/**
 * Django Channels and Hono Channels in the same groups, for real: Daphne serving a Django project
 * with channels_redis, and our server with CHANNEL_LAYER=channels_redis, on one private Redis.
 * Runs plain (our server on Node) and encrypted (on Deno; each side with the other's keys in
 * another order: the first key encrypts, any decrypts, so this also covers a key rotation in
 * progress). Our worker, the layer in this test, runs on Bun.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { ChannelsRedisLayer } from "../../src/layers/channels-redis.ts";
import { waitUntilUp } from "../../src/layers/layer.ts";
import { describeWithRedis } from "../_support/redis.ts";
import { connect, type TestSocket } from "../server/_client.ts";
import { type ServerProcess, startServer } from "../server/_fixture.ts";
import type { RuntimeName } from "../server/_runtimes.ts";
import { type DjangoProcess, describeWithDjango, startDjango } from "./_django.ts";

/** Chat messages each side sends. */
const N = 10;

describeWithRedis("Django interop", ({ url }) => {
  describeWithDjango("Django Channels and Hono Channels sharing channels_redis", () => {
    describe("plain, our server on Node", () => interop(url, "node", []));
    describe("encrypted, our server on Deno", () => interop(url, "deno", ["rotating key", "current key"]));
  });
});

function interop(redisUrl: () => string, runtime: RuntimeName, keys: string[]): void {
  let django: DjangoProcess;
  let ours: ServerProcess;
  let layer: ChannelsRedisLayer;
  const sockets: TestSocket[] = [];

  beforeAll(async () => {
    const prefix = `interop-${crypto.randomUUID().slice(0, 8)}:`;
    const env = { REDIS_URL: redisUrl(), REDIS_PREFIX: prefix };
    [django, ours] = await Promise.all([
      startDjango({ ...env, CHANNEL_ENCRYPTION_KEYS: keys.join(",") }),
      startServer(runtime, {
        ...env,
        CHANNEL_LAYER: "channels_redis",
        CHANNEL_ENCRYPTION_KEYS: [...keys].reverse().join(","),
      }),
    ]);
    // A worker of ours, as a script or a `worker` process would hold one.
    layer = new ChannelsRedisLayer({ url: redisUrl(), prefix, encryptionKeys: keys });
    await waitUntilUp(layer);
  }, 30_000);

  afterAll(async () => {
    for (const socket of sockets) socket.close();
    django?.kill();
    ours?.kill();
    await layer?.close();
  });

  const join = async (url: string) => {
    const socket = await connect(url);
    sockets.push(socket);
    return socket;
  };

  /** `count` JSON messages from `socket`; on a timeout, both servers' output. */
  const take = async (socket: TestSocket, count: number) => {
    const received: Array<Record<string, unknown>> = [];
    try {
      while (received.length < count) received.push((await socket.nextJson(5000)) as Record<string, unknown>);
    } catch (error) {
      throw new Error(
        `got ${received.length} of ${count}: ${(error as Error).message}\n--- django ---\n${django.output().slice(-3000)}\n--- ours ---\n${ours.output().slice(-3000)}`,
      );
    }
    return received;
  };

  it("chat: a Django client and one of ours each see the other's messages, in order, exactly once", async () => {
    const onDjango = await join(django.wsUrl("/chat/mixed/?name=django"));
    const onOurs = await join(ours.wsUrl("/chat/mixed?name=hono"));
    for (let n = 0; n < N; n++) {
      onDjango.send(JSON.stringify({ text: `d${n}` }));
      onOurs.send(JSON.stringify({ text: `h${n}` }));
    }
    for (const socket of [onDjango, onOurs]) {
      const received = await take(socket, 2 * N);
      for (const [user, tag] of [
        ["django", "d"],
        ["hono", "h"],
      ]) {
        const texts = received.filter((message) => message.user === user).map((message) => message.text);
        expect(texts).toEqual(Array.from({ length: N }, (_, n) => `${tag}${n}`));
      }
      expect(received.every((message) => message.type === "chat.message")).toBe(true);
      expect(await socket.receiveNothing(200)).toBe(true);
    }
  });

  it("HTTP views push to the other side's group members: ours to Django's, Django's to ours", async () => {
    const onDjango = await join(django.wsUrl("/chat/views/?name=django"));
    const onOurs = await join(ours.wsUrl("/chat/views?name=hono"));
    await fetch(new URL("/api/announce", ours.url), {
      method: "POST",
      body: JSON.stringify({ room: "views", text: "from our view" }),
    });
    await django.request("/push/chat.views/", {
      method: "POST",
      body: JSON.stringify({ text: "from django" }),
    });
    for (const socket of [onDjango, onOurs]) {
      const received = await take(socket, 2);
      expect(received).toContainEqual({ type: "chat.message", user: "server", text: "from our view" });
      expect(received).toContainEqual({ type: "chat.message", user: "django-view", text: "from django" });
    }
  });

  it("Django sends to our worker channel and our process channel: bytes, nested data and Python's numbers arrive", async () => {
    const expected = {
      type: "job.from.django",
      blob: new Uint8Array([0, 255, 16]),
      nested: { list: [1, "two", { three: 3.5 }], empty: {}, none: null, yes: true },
      big: 2n ** 60n, // past 2^53: a bigint, exact
      ms: 1_764_000_000_000, // past 2^32 but safe: a number
      float: 2, // Python's 2.0: JavaScript has one number type
      unicode: "héllo ✓",
    };
    await django.request("/send/jobs.hono/", {
      method: "POST",
      body: JSON.stringify({ id: 1, blob: "00ff10" }),
    });
    expect(await layer.receive("jobs.hono", { signal: AbortSignal.timeout(5000) })).toEqual({
      ...expected,
      id: 1,
    });

    const own = await layer.newChannel();
    await django.request(`/send/${own}/`, {
      method: "POST",
      body: JSON.stringify({ id: 2, blob: "00ff10" }),
    });
    expect(await layer.receive(own, { signal: AbortSignal.timeout(5000) })).toEqual({ ...expected, id: 2 });
  });

  it("we send to Django's worker channel and process channel: Django reads bytes as bytes and integers as int", async () => {
    const message = {
      type: "job.from.hono",
      blob: new Uint8Array([1, 2, 255]),
      nested: { deep: [{ a: [true, null] }], text: "ünïcode" },
      ms: 1_764_000_000_000,
      big: 2n ** 60n,
      half: 0.5,
      huge: 1e20, // past 2^53: not known to be an integer any more, so a float
    };
    const described = {
      dict: {
        type: { str: "job.from.hono" },
        blob: { bytes: "0102ff" },
        nested: {
          dict: {
            deep: { list: [{ dict: { a: { list: [{ bool: true }, { NoneType: null }] } } }] },
            text: { str: "ünïcode" },
          },
        },
        ms: { int: "1764000000000" },
        big: { int: String(2n ** 60n) },
        half: { float: 0.5 },
        huge: { float: 1e20 },
      },
    };
    const receiving = django.request("/receive/jobs.django/");
    await layer.send("jobs.django", message);
    expect(await receiving).toEqual(described);

    const { channel } = (await django.request("/new-channel/")) as { channel: string };
    expect(channel).toMatch(/^specific\.[0-9a-f]{32}![0-9a-f]{32}$/);
    await layer.send(channel, message);
    expect(await django.request(`/receive/${channel}/`)).toEqual(described);
  });
}
