/**
 * The Redis layer carries the group messages of a turn of the event loop in one script call
 * (src/layers/backplanes/group-send-batch.ts). What users rely on stays as it was: every message
 * arrives in the order it was sent, other commands keep their place among the group sends, a
 * message Redis refuses fails alone, and a full stored member is still reported for its group.
 */
import { afterEach, expect, it } from "bun:test";
import Redis from "ioredis";
import { LayerUnavailableError } from "../../src/errors.ts";
import { BATCH_MESSAGES } from "../../src/layers/backplanes/group-send-batch.ts";
import type { Message } from "../../src/layers/layer.ts";
import { waitUntilUp } from "../../src/layers/layer.ts";
import { RedisChannelLayer, type RedisLayerOptions } from "../../src/layers/redis.ts";
import { describeWithRedis } from "../_support/redis.ts";

describeWithRedis(
  "RedisChannelLayer group-send batches",
  ({ url }) => {
    const open: Array<{ close(): unknown }> = [];
    afterEach(async () => {
      for (const resource of open.splice(0)) await resource.close();
    });

    async function layer(prefix: string, options: RedisLayerOptions = {}) {
      const created = new RedisChannelLayer({ url: url(), prefix, ...options });
      open.push(created);
      await waitUntilUp(created);
      return created;
    }

    function admin() {
      const client = new Redis(url());
      open.push({ close: () => client.quit() });
      return client;
    }

    async function evalshaCalls(client: Redis): Promise<number> {
      const stats = await client.info("commandstats");
      return Number(/cmdstat_evalsha:calls=(\d+)/.exec(stats)?.[1] ?? 0);
    }

    async function until(done: () => boolean, ms = 5000): Promise<void> {
      const deadline = Date.now() + ms;
      while (!done() && Date.now() < deadline) await Bun.sleep(5);
    }

    it("carries a turn's sends in as few calls as its bound allows, delivered in the order they were sent", async () => {
      const prefix = `batch-${crypto.randomUUID()}`;
      const sender = await layer(prefix);
      const receiver = await layer(prefix);
      const arrived: Message[] = [];
      const channel = await receiver.newChannel();
      receiver.listen(channel, { push: (message) => void arrived.push(message), backlog: 0 });
      for (const group of ["a", "b", "c"]) await receiver.groupAdd(group, channel);
      await sender.groupSend("a", { type: "warm.up" }); // loads the script on the server
      await until(() => arrived.length === 1);
      arrived.length = 0;

      const redis = admin();
      await redis.config("RESETSTAT");
      const count = BATCH_MESSAGES + 88;
      const sends: Array<Promise<void>> = [];
      for (let n = 0; n < count; n++)
        sends.push(sender.groupSend(["a", "b", "c"][n % 3]!, { type: "chat.message", n }));
      await Promise.all(sends);
      await until(() => arrived.length === count);

      expect(arrived.map((message) => message.n)).toEqual([...Array(count).keys()]);
      // One call per full batch and one for the rest, not one per message.
      expect(await evalshaCalls(redis)).toBe(2);
    });

    it("keeps a command made after group sends behind them, and one made before ahead of them", async () => {
      const prefix = `order-${crypto.randomUUID()}`;
      const process = await layer(prefix);
      await process.groupAdd("room", "worker.leaving");
      await process.groupSend("room", { type: "warm.up" });

      // None awaited before the next is made: the order of the calls is all that orders them.
      await Promise.all([
        process.groupSend("room", { type: "before.leave" }),
        process.groupDiscard("room", "worker.leaving"),
        process.groupSend("room", { type: "after.leave" }),
        process.groupAdd("room", "worker.joining"),
        process.groupSend("room", { type: "after.join" }),
      ]);

      const leaving: string[] = [];
      while ((await process.queued("worker.leaving")) > 0)
        leaving.push((await process.receive("worker.leaving")).type);
      expect(leaving).toEqual(["warm.up", "before.leave"]);
      expect(await process.queued("worker.joining")).toBe(1);
      expect((await process.receive("worker.joining")).type).toBe("after.join");
    });

    it("fails a message Redis refuses on its own; the rest of its batch goes through", async () => {
      const prefix = `refused-${crypto.randomUUID()}`;
      const sender = await layer(prefix);
      const receiver = await layer(prefix);
      const arrived: Message[] = [];
      const channel = await receiver.newChannel();
      receiver.listen(channel, { push: (message) => void arrived.push(message), backlog: 0 });
      await receiver.groupAdd("fine", channel);
      // Something else wrote a plain string where the group's stored set belongs.
      await admin().set(`${prefix}:group:broken`, "not a sorted set");

      const outcomes = await Promise.allSettled([
        sender.groupSend("fine", { type: "first" }),
        sender.groupSend("broken", { type: "lost" }),
        sender.groupSend("fine", { type: "second" }),
      ]);

      expect(outcomes.map((outcome) => outcome.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
      const reason = (outcomes[1] as PromiseRejectedResult).reason;
      expect(reason).toBeInstanceOf(LayerUnavailableError);
      expect(String(reason.cause?.message ?? reason.message)).toContain("WRONGTYPE");
      await until(() => arrived.length === 2);
      expect(arrived.map((message) => message.type)).toEqual(["first", "second"]);
    });

    it("reports a full stored member for the group it is in, and still delivers to the rest", async () => {
      const prefix = `full-${crypto.randomUUID()}`;
      const warnings: Array<Record<string, unknown> | undefined> = [];
      const logger = {
        debug() {},
        info() {},
        warn: (_: string, details?: Record<string, unknown>) => void warnings.push(details),
        error() {},
      };
      const sender = await layer(prefix, { logger, channelCapacity: { "worker.*": 1 } });
      await sender.groupAdd("busy", "worker.slow");
      await sender.groupAdd("quiet", "worker.fast");

      await Promise.all([
        sender.groupSend("quiet", { type: "one" }),
        sender.groupSend("busy", { type: "one" }),
        sender.groupSend("busy", { type: "two" }), // worker.slow holds one message at most
      ]);

      expect(warnings).toEqual([{ group: "busy", times: 1 }]);
      expect(await sender.queued("worker.slow")).toBe(1);
      expect(await sender.queued("worker.fast")).toBe(1);
    });
  },
  { own: true },
);
