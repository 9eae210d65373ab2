/**
 * The backplane contract: what every backplane must do for messages to cross processes. Each test
 * runs two or three "processes" (one `DeliveryLayer` each, with its own backplane) on one backend.
 * Runs against the Redis backplane (redis.test.ts) and the in-process fake (fake.test.ts).
 */
import { afterEach, describe, expect, it } from "bun:test";
import { LayerUnavailableError, NotLocalError } from "../../src/errors.ts";
import type { Backplane } from "../../src/layers/backplanes/backplane.ts";
import { DeliveryLayer } from "../../src/layers/delivery.ts";
import type { ChannelSink, LayerOptions, Message } from "../../src/layers/layer.ts";

/** A backend shared by the processes of one test: `connect()` makes one process's backplane. */
export interface Backend {
  connect(options?: LayerOptions): Backplane;
  /** Makes the backend unreachable for every process (and back); suites that can pass it. */
  outage?: { down(): Promise<void>; restore(): Promise<void> };
}

/** A fresh, empty backend. */
export type BackendFactory = () => Backend | Promise<Backend>;

/** A sink recording what arrives, with no backlog. */
function recorder(): ChannelSink & { messages: Message[] } {
  const messages: Message[] = [];
  return { messages, backlog: 0, push: (message) => void messages.push(message) };
}

/** Waits until `condition()` holds, for at most `ms`. */
async function until(condition: () => boolean, ms = 2000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return true;
}

/**
 * Defines the suite. `canFail`: the backend offers `outage`, so the outage test runs (the Redis
 * backplane's outages are covered by redis-faults.test.ts on a private server).
 */
export function backplaneContract(name: string, factory: BackendFactory, canFail = false): void {
  describe(`${name}: backplane contract`, () => {
    const open: Array<{ close(): Promise<void> }> = [];
    afterEach(async () => {
      for (const layer of open.splice(0)) await layer.close();
    });

    /** `count` processes on one fresh backend, each a layer with its own backplane. */
    const processes = async (count: number, options: LayerOptions = {}) => {
      const backend = await factory();
      const layers = Array.from({ length: count }, () => {
        const backplane = backend.connect(options);
        const layer = new DeliveryLayer(options, backplane);
        open.push(layer);
        return { layer, backplane };
      });
      return { backend, layers };
    };

    /** A consumer-like local member of `group` in `layer`. */
    const member = async (layer: DeliveryLayer, group: string) => {
      const channel = await layer.newChannel();
      const sink = recorder();
      layer.listen(channel, sink);
      await layer.groupAdd(group, channel);
      return { channel, sink };
    };

    it("delivers a group message once to every member in every process, the sender's included", async () => {
      const { layers } = await processes(3);
      const [a, b, c] = layers.map(({ layer }) => layer) as [DeliveryLayer, DeliveryLayer, DeliveryLayer];
      const members = [await member(a, "room"), await member(b, "room"), await member(b, "room")];
      const outsider = await member(c, "elsewhere");
      await a.groupSend("room", { type: "chat.message", text: "hi" });
      expect(await until(() => members.every(({ sink }) => sink.messages.length === 1))).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 50)); // no duplicates trickle in
      for (const { sink } of members) expect(sink.messages).toEqual([{ type: "chat.message", text: "hi" }]);
      expect(outsider.sink.messages).toEqual([]);
    });

    it("keeps one sender's group messages in order across processes", async () => {
      const { layers } = await processes(2);
      const [a, b] = layers.map(({ layer }) => layer) as [DeliveryLayer, DeliveryLayer];
      const far = await member(b, "ordered");
      for (let n = 0; n < 50; n++) await a.groupSend("ordered", { type: "n", n });
      expect(await until(() => far.sink.messages.length === 50)).toBe(true);
      expect(far.sink.messages.map((message) => message.n)).toEqual([...Array(50).keys()]);
    });

    it("sends to a channel of another process", async () => {
      const { layers } = await processes(2);
      const [a, b] = layers.map(({ layer }) => layer) as [DeliveryLayer, DeliveryLayer];
      const channel = await b.newChannel();
      const sink = recorder();
      b.listen(channel, sink);
      await a.send(channel, { type: "direct", bytes: new Uint8Array([7]) });
      expect(await until(() => sink.messages.length === 1)).toBe(true);
      expect(sink.messages[0]).toEqual({ type: "direct", bytes: new Uint8Array([7]) });
      await expect(a.receive(channel)).rejects.toBeInstanceOf(NotLocalError);
    });

    it("shares plain channels: one process sends, another receives (workers)", async () => {
      const { layers } = await processes(2);
      const [a, b] = layers.map(({ layer }) => layer) as [DeliveryLayer, DeliveryLayer];
      const waiting = b.receive("jobs.thumbnails");
      await a.send("jobs.thumbnails", { type: "thumbnail", id: 1 });
      expect(await waiting).toEqual({ type: "thumbnail", id: 1 });
    });

    it("reaches a plain channel added to a group from another process", async () => {
      const { layers } = await processes(2);
      const [a, b] = layers.map(({ layer }) => layer) as [DeliveryLayer, DeliveryLayer];
      await a.groupAdd("audit", "audit-log");
      await b.groupSend("audit", { type: "audit.entry", n: 1 });
      expect(await a.receive("audit-log")).toEqual({ type: "audit.entry", n: 1 });
      await b.groupDiscard("audit", "audit-log");
      await b.groupSend("audit", { type: "audit.entry", n: 2 });
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 100);
      await expect(a.receive("audit-log", { signal: controller.signal })).rejects.toBeDefined();
    });

    it("subscribes only while the process has members of a group", async () => {
      const { layers } = await processes(2);
      const [{ layer: a }, { layer: b, backplane }] = layers as [
        { layer: DeliveryLayer; backplane: Backplane },
        { layer: DeliveryLayer; backplane: Backplane },
      ];
      // A backplane that stores memberships (channels_redis's format) never subscribes.
      const subscribed = (count: number) => (backplane.keepsMemberships ? 0 : count);
      expect(backplane.subscriptions).toBe(0);
      const one = await member(b, "lobby");
      const two = await member(b, "lobby");
      expect(backplane.subscriptions).toBe(subscribed(1));
      await b.groupDiscard("lobby", one.channel);
      expect(backplane.subscriptions).toBe(subscribed(1));
      await a.groupSend("lobby", { type: "one.left" });
      expect(await until(() => two.sink.messages.length === 1)).toBe(true);
      await b.groupDiscard("lobby", two.channel);
      expect(backplane.subscriptions).toBe(0);
      await a.groupSend("lobby", { type: "after.leaving" });
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(one.sink.messages).toEqual([]);
      expect(two.sink.messages).toEqual([{ type: "one.left" }]);
    });

    it("lets a group's subscription go when its last member expires, or when the layer is flushed", async () => {
      let now = 1_000_000;
      const { layers } = await processes(1, { groupExpiry: 10, now: () => now } as LayerOptions);
      const [{ layer, backplane }] = layers as [{ layer: DeliveryLayer; backplane: Backplane }];
      const subscribed = (count: number) => (backplane.keepsMemberships ? 0 : count);
      // A local channel nobody listens to (a worker's, read with receive()): its membership expires.
      const channel = await layer.newChannel();
      await layer.groupAdd("expiring", channel);
      expect(backplane.subscriptions).toBe(subscribed(1));
      now += 11_000;
      await layer.groupSend("expiring", { type: "after.expiry" });
      expect(await until(() => backplane.subscriptions === 0)).toBe(true);
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 100);
      await expect(layer.receive(channel, { signal: controller.signal })).rejects.toBeDefined();

      const flushed = await member(layer, "flushed");
      expect(backplane.subscriptions).toBe(subscribed(1));
      await layer.flush();
      expect(await until(() => backplane.subscriptions === 0)).toBe(true);
      await layer.groupSend("flushed", { type: "after.flush" });
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(flushed.sink.messages).toEqual([]);
    });

    it("works from the first call after it is made, without waiting for it to connect", async () => {
      const { layers } = await processes(2);
      const [a, b] = layers.map(({ layer }) => layer) as [DeliveryLayer, DeliveryLayer];
      // No waitUntilUp: a script or a worker makes a layer and uses it at once.
      const far = await member(b, "fresh");
      await a.send("fresh-plain", { type: "first" });
      await a.groupSend("fresh", { type: "second" });
      expect(await b.receive("fresh-plain")).toEqual({ type: "first" });
      expect(await until(() => far.sink.messages.length === 1)).toBe(true);
    });

    it("holds a lease for one process at a time: renewed by its holder, taken by another once released or lapsed", async () => {
      const { layers } = await processes(2);
      const [a, b] = layers.map(({ backplane }) => backplane) as [Backplane, Backplane];
      if (!a.acquireLease || !a.releaseLease) return; // a backplane without leases: tasks refuse it
      const name = `lease-${crypto.randomUUID()}`;
      expect(await a.acquireLease(name, "a", 10_000)).toBe(true);
      expect(await b.acquireLease!(name, "b", 10_000)).toBe(false);
      expect(await a.acquireLease(name, "a", 10_000)).toBe(true); // renewed
      await b.releaseLease!(name, "b"); // not the holder: nothing happens
      expect(await b.acquireLease!(name, "b", 10_000)).toBe(false);
      await a.releaseLease(name, "a");
      expect(await b.acquireLease!(name, "b", 150)).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 300)); // b's lease lapses
      expect(await a.acquireLease(name, "a", 10_000)).toBe(true);
    });

    if (canFail)
      it("fails calls with LayerUnavailableError while the backend is away, then works", async () => {
        const { backend, layers } = await processes(2);
        if (!backend.outage) throw new Error("canFail needs a backend with an outage");
        const [a, b] = layers.map(({ layer }) => layer) as [DeliveryLayer, DeliveryLayer];
        const far = await member(b, "outage");
        await backend.outage.down();
        await expect(a.groupSend("outage", { type: "lost" })).rejects.toBeInstanceOf(LayerUnavailableError);
        await expect(a.send("outage-plain", { type: "lost" })).rejects.toBeInstanceOf(LayerUnavailableError);
        await backend.outage.restore();
        await a.groupSend("outage", { type: "after" });
        expect(await until(() => far.sink.messages.length === 1)).toBe(true);
        expect(far.sink.messages).toEqual([{ type: "after" }]);
      });
  });
}
