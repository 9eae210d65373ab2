/**
 * A Redis that stops answering without closing its connections (SIGSTOP here; DEBUG SLEEP, CLIENT
 * PAUSE or an overloaded server in life). Every call has a bound; a call Redis got but never
 * answered is "outcome unknown", not "not sent"; the layer reports `down` within seconds and
 * refuses new calls at once until Redis answers again; a member's leave never waits on it.
 * Each test freezes a private server and always thaws it.
 */
import { afterEach, expect, it } from "bun:test";
import { LayerOutcomeUnknownError, LayerUnavailableError } from "../../src/errors.ts";
import type { Message } from "../../src/layers/layer.ts";
import { type LayerStatus, waitUntilUp } from "../../src/layers/layer.ts";
import { RedisChannelLayer } from "../../src/layers/redis.ts";
import { describeWithRedis } from "../_support/redis.ts";

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

/** The error `promise` rejected with (or an Error saying it did not). */
function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => new Error("expected a rejection, but the call succeeded"),
    (error: unknown) => error,
  );
}

/** Waits until `condition()` holds, for at most `ms`. */
async function until(condition: () => boolean, ms: number): Promise<boolean> {
  const deadline = performance.now() + ms;
  while (!condition()) {
    if (performance.now() > deadline) return false;
    await Bun.sleep(10);
  }
  return true;
}

describeWithRedis(
  "RedisChannelLayer with a frozen Redis",
  ({ url, server }) => {
    const open: RedisChannelLayer[] = [];
    afterEach(async () => {
      server()?.resume();
      for (const layer of open.splice(0)) await layer.close();
    });
    const layerFor = async (prefix: string) => {
      const layer = new RedisChannelLayer({ url: url(), prefix, logger: quiet });
      open.push(layer);
      await waitUntilUp(layer);
      return layer;
    };
    const member = async (layer: RedisChannelLayer, group: string) => {
      const channel = await layer.newChannel();
      const arrived: Message[] = [];
      layer.listen(channel, { push: (message) => void arrived.push(message), backlog: 0 });
      await layer.groupAdd(group, channel);
      return { channel, arrived };
    };

    it("says a groupSend Redis took but did not answer has an unknown outcome, not that nothing was sent", async () => {
      const prefix = `frozen-${crypto.randomUUID()}`;
      const layer = await layerFor(prefix);
      const { arrived } = await member(layer, "room");
      // Once before the freeze, so Redis knows the script and runs it when it wakes.
      await layer.groupSend("room", { type: "before.freeze" });
      expect(await until(() => arrived.length === 1, 2000)).toBe(true);
      arrived.length = 0;
      server()!.pause();
      const started = performance.now();
      const error = await rejection(layer.groupSend("room", { type: "during.freeze" }));
      expect(error).toBeInstanceOf(LayerOutcomeUnknownError);
      expect((error as LayerOutcomeUnknownError).code).toBe("OUTCOME_UNKNOWN");
      expect(performance.now() - started).toBeLessThan(4000);
      server()!.resume();
      // And indeed it was carried out once Redis woke: "unknown" was the honest answer.
      expect(await until(() => arrived.length === 1, 5000)).toBe(true);
      expect(arrived).toEqual([{ type: "during.freeze" }]);
    }, 20_000);

    it("reports down within seconds, refuses calls at once meanwhile (not sent), and comes back up", async () => {
      const prefix = `frozen-${crypto.randomUUID()}`;
      const layer = await layerFor(prefix);
      const { arrived } = await member(layer, "room");
      const statuses: LayerStatus[] = [];
      layer.onStatus((status) => statuses.push(status));
      server()!.pause();
      expect(await until(() => layer.status === "down", 5000)).toBe(true);
      const started = performance.now();
      for (const call of [
        () => layer.groupSend("room", { type: "refused" }),
        () => layer.send("worker.jobs", { type: "refused" }),
      ]) {
        const error = await rejection(call());
        expect(error).toBeInstanceOf(LayerUnavailableError);
        expect((error as LayerUnavailableError).code).toBe("LAYER_UNAVAILABLE");
      }
      expect(performance.now() - started).toBeLessThan(200);
      server()!.resume();
      expect(await until(() => layer.status === "up", 5000)).toBe(true);
      expect(statuses).toEqual(["down", "up"]);
      await layer.groupSend("room", { type: "after.freeze" });
      expect(await until(() => arrived.length === 1, 3000)).toBe(true);
      // What was refused was not sent: only the message after the freeze arrived.
      await Bun.sleep(100);
      expect(arrived).toEqual([{ type: "after.freeze" }]);
    }, 20_000);

    it("refuses a worker's receive() while frozen without taking a message it would never hand over", async () => {
      const prefix = `frozen-${crypto.randomUUID()}`;
      const worker = await layerFor(prefix);
      const sender = await layerFor(prefix);
      server()!.pause();
      expect(await until(() => worker.status === "down", 5000)).toBe(true);
      const error = await rejection(worker.receive("worker.jobs"));
      expect((error as LayerUnavailableError).code).toBe("LAYER_UNAVAILABLE");
      server()!.resume();
      // Both saw the freeze; each is back once its own watchdog has heard Redis again.
      await Promise.all([waitUntilUp(worker, 5000), waitUntilUp(sender, 5000)]);
      await sender.send("worker.jobs", { type: "job", n: 1 });
      // The refused receive() left nothing reading: the job waits for the next receive().
      expect(await worker.receive("worker.jobs")).toEqual({ type: "job", n: 1 });
    }, 20_000);

    it("bounds a join into a new group and never holds up a member's leave", async () => {
      const prefix = `frozen-${crypto.randomUUID()}`;
      const layer = await layerFor(prefix);
      const last = await member(layer, "leaving");
      server()!.pause();
      let started = performance.now();
      await layer.groupDiscard("leaving", last.channel);
      expect(performance.now() - started).toBeLessThan(100);
      expect(layer.size.subscriptions).toBe(0);
      const channel = await layer.newChannel();
      started = performance.now();
      const error = await rejection(layer.groupAdd("new-room", channel));
      expect(error).toBeInstanceOf(Error);
      expect(["OUTCOME_UNKNOWN", "LAYER_UNAVAILABLE"]).toContain((error as LayerUnavailableError).code);
      expect(performance.now() - started).toBeLessThan(4000);
      server()!.resume();
      await waitUntilUp(layer, 5000);
      // The join that timed out left no subscription behind once Redis caught up.
      await Bun.sleep(200);
      expect(layer.size.subscriptions).toBe(0);
      await layer.groupAdd("new-room", channel);
      expect(layer.size.subscriptions).toBe(1);
    }, 20_000);
  },
  { own: true },
);
