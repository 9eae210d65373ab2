/**
 * The Redis layer's cost model: one Redis operation per groupSend whatever the group's size (and
 * one script call for all the group sends of a turn), and a process subscribed only to the groups
 * it has local members in.
 */
import { afterEach, expect, it } from "bun:test";
import Redis from "ioredis";
import { InvalidNameError, LayerUnavailableError } from "../../src/errors.ts";
import { BATCH_MESSAGES } from "../../src/layers/backplanes/group-send-batch.ts";
import type { Message } from "../../src/layers/layer.ts";
import { waitUntilUp } from "../../src/layers/layer.ts";
import { RedisChannelLayer, type RedisLayerOptions } from "../../src/layers/redis.ts";
import { describeWithRedis } from "../_support/redis.ts";

describeWithRedis(
  "RedisChannelLayer fan-out",
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

    /** Calls per command since the last CONFIG RESETSTAT, from INFO commandstats. */
    async function commandCalls(client: Redis): Promise<Record<string, number>> {
      const calls: Record<string, number> = {};
      for (const match of (await client.info("commandstats")).matchAll(/cmdstat_(\w+):calls=(\d+)/g)) {
        calls[match[1]!] = Number(match[2]);
      }
      return calls;
    }

    /** `count` local consumers of `group` in `receiver`; `arrived(n)` waits until they hold n messages in all. */
    async function members(receiver: RedisChannelLayer, group: string, count: number) {
      const inbox: Message[] = [];
      for (let i = 0; i < count; i++) {
        const channel = await listening(receiver, inbox);
        await receiver.groupAdd(group, channel);
      }
      return async (total: number) => {
        await until(() => inbox.length >= total);
        return inbox.length;
      };
    }

    /** A new local channel of `receiver` whose messages land in `arrived`. */
    async function listening(receiver: RedisChannelLayer, arrived: Message[]): Promise<string> {
      const channel = await receiver.newChannel();
      receiver.listen(channel, { push: (message) => void arrived.push(message), backlog: 0 });
      return channel;
    }

    async function until(done: () => boolean, ms = 5000): Promise<void> {
      const deadline = Date.now() + ms;
      while (!done() && Date.now() < deadline) await Bun.sleep(5);
    }

    it.each([1, 100, 1000])(
      "costs one EVALSHA (one PUBLISH inside) to reach %i members in another process",
      async (size) => {
        const prefix = `fanout-${crypto.randomUUID()}`;
        const sender = await layer(prefix);
        const receiver = await layer(prefix);
        const arrived = await members(receiver, "big", size);
        await sender.groupSend("big", { type: "warm.up" }); // loads the script on the server
        expect(await arrived(size)).toBe(size);
        const redis = admin();
        await redis.config("RESETSTAT");
        await sender.groupSend("big", { type: "counted" });
        expect(await arrived(2 * size)).toBe(2 * size);
        const calls = await commandCalls(redis);
        expect(calls.evalsha).toBe(1);
        expect(calls.publish).toBe(1);
        // No per-member work on the server: nothing pushed to any list.
        expect(calls.rpush ?? 0).toBe(0);
        expect(calls.lpush ?? 0).toBe(0);
      },
    );

    it("subscribes a process only to groups with local members, and unsubscribes after the last leaves", async () => {
      const prefix = `subs-${crypto.randomUUID()}`;
      const process = await layer(prefix);
      const redis = admin();
      const subscribed = async () => ((await redis.pubsub("CHANNELS", `${prefix}:*`)) as string[]).sort();
      const a = await process.newChannel();
      const b = await process.newChannel();
      await process.groupAdd("room-1", a);
      await process.groupAdd("room-1", b);
      await process.groupAdd("room-2", a);
      await process.groupAdd("stored", "plain-worker-channel"); // not local: no subscription
      expect(await subscribed()).toEqual([`${prefix}:gpub:room-1`, `${prefix}:gpub:room-2`]);
      await process.groupDiscard("room-1", a);
      expect(await subscribed()).toEqual([`${prefix}:gpub:room-1`, `${prefix}:gpub:room-2`]);
      await process.groupDiscard("room-1", b);
      await process.groupDiscard("room-2", a);
      expect(process.size.subscriptions).toBe(0);
      // A leave does not wait for UNSUBSCRIBE (it is written at once, on the subscriber's own
      // connection): this other connection may ask before Redis has run it, so ask until it has.
      const deadline = Date.now() + 2000;
      while ((await subscribed()).length > 0 && Date.now() < deadline) await Bun.sleep(10);
      expect(await subscribed()).toEqual([]);
    });

    it("stays subscribed when joins and leaves of one group overlap", async () => {
      const prefix = `race-${crypto.randomUUID()}`;
      const process = await layer(prefix);
      const sender = await layer(prefix);
      const redis = admin();
      for (let round = 0; round < 20; round++) {
        const a = await process.newChannel();
        const b = await process.newChannel();
        const arrived: Message[] = [];
        process.listen(b, { push: (message) => void arrived.push(message), backlog: 0 });
        // Not awaited one by one: A joins, B joins, A leaves, all in flight together.
        await Promise.all([
          process.groupAdd("room", a),
          process.groupAdd("room", b),
          process.groupDiscard("room", a),
        ]);
        const [, subscribers] = (await redis.pubsub("NUMSUB", `${prefix}:gpub:room`)) as [string, number];
        expect(subscribers).toBe(1);
        await sender.groupSend("room", { type: "after.race", round });
        const deadline = Date.now() + 2000;
        while (arrived.length === 0 && Date.now() < deadline) await Bun.sleep(2);
        expect(arrived).toEqual([{ type: "after.race", round }]);
        await process.groupDiscard("room", b);
      }
      expect(process.size.subscriptions).toBe(0);
    });

    // The group messages of a turn go to Redis in one script call (group-send-batch.ts); what users
    // rely on stays: the order they were sent in, other commands in their place, one refusal alone.

    async function evalshaCalls(client: Redis): Promise<number> {
      return (await commandCalls(client)).evalsha ?? 0;
    }

    it("carries a turn's sends in as few calls as its bound allows, delivered in the order they were sent", async () => {
      const prefix = `batch-${crypto.randomUUID()}`;
      const sender = await layer(prefix);
      const receiver = await layer(prefix);
      const arrived: Message[] = [];
      const channel = await listening(receiver, arrived);
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

    it("publishes a run of sends to one group as one pub/sub message, and keeps the batch's order across groups", async () => {
      const prefix = `runs-${crypto.randomUUID()}`;
      const sender = await layer(prefix);
      const receiver = await layer(prefix);
      const arrived: Message[] = [];
      const channel = await listening(receiver, arrived);
      for (const group of ["a", "b"]) await receiver.groupAdd(group, channel);
      await sender.groupSend("a", { type: "warm.up" }); // loads the script on the server
      await until(() => arrived.length === 1);
      arrived.length = 0;

      const redis = admin();
      await redis.config("RESETSTAT");
      const groups = ["a", "a", "a", "b", "b", "a"];
      await Promise.all(
        groups.map((group, n) => sender.groupSend(group, { type: "chat.message", group, n })),
      );
      await until(() => arrived.length === groups.length);

      expect(arrived.map((message) => [message.group, message.n])).toEqual(
        groups.map((group, n) => [group, n]),
      );
      const calls = await commandCalls(redis);
      expect(calls.evalsha).toBe(1);
      expect(calls.publish).toBe(3); // a x3, b x2, a
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

    it("carries a group send made just before close()", async () => {
      const prefix = `close-${crypto.randomUUID()}`;
      const closing = new RedisChannelLayer({ url: url(), prefix });
      await waitUntilUp(closing);
      const reader = await layer(prefix);
      await reader.groupAdd("room", "worker.last");
      const sent = closing.groupSend("room", { type: "last.word" });
      await new Promise((resolve) => setImmediate(resolve)); // the batch is handed on, not yet written
      await closing.close();
      await sent;
      expect(await reader.queued("worker.last")).toBe(1);
    });

    /**
     * Sends "first", a message to `bad`, then "second" to a group with one listening member, in one
     * batch, through `sendOf(sender)`; checks that the other two arrive, in order, and returns why
     * the middle one was refused.
     */
    async function middleOfThreeRefused(
      prefix: string,
      bad: string,
      sendOf: (sender: RedisChannelLayer) => (group: string, message: Message) => Promise<void>,
    ): Promise<Error & { cause?: Error }> {
      const sender = await layer(prefix);
      const receiver = await layer(prefix);
      const arrived: Message[] = [];
      const channel = await listening(receiver, arrived);
      await receiver.groupAdd("fine", channel);
      const send = sendOf(sender);
      const outcomes = await Promise.allSettled([
        send("fine", { type: "first" }),
        send(bad, { type: "lost" }),
        send("fine", { type: "second" }),
      ]);
      expect(outcomes.map((outcome) => outcome.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
      await until(() => arrived.length === 2);
      expect(arrived.map((message) => message.type)).toEqual(["first", "second"]);
      return (outcomes[1] as PromiseRejectedResult).reason;
    }

    it("fails a message Redis refuses on its own; the rest of its batch goes through", async () => {
      const prefix = `refused-${crypto.randomUUID()}`;
      // Something else wrote a plain string where the group's stored set belongs.
      await admin().set(`${prefix}:group:broken`, "not a sorted set");
      const reason = await middleOfThreeRefused(prefix, "broken", (sender) => sender.groupSend.bind(sender));
      expect(reason).toBeInstanceOf(LayerUnavailableError);
      expect(String(reason.cause?.message ?? reason.message)).toContain("WRONGTYPE");
    });

    it("refuses a group name a batch cannot carry, handed to the backplane directly, without failing the batch", async () => {
      // The layer checks names itself; the backplane is public too, and its batch separates by newline.
      type Sends = { groupSend(group: string, message: Message): Promise<void> };
      const reason = await middleOfThreeRefused(`badname-${crypto.randomUUID()}`, "bad\nname", (sender) => {
        const backplane = (sender as unknown as { backplane: Sends }).backplane;
        return backplane.groupSend.bind(backplane);
      });
      expect(reason).toBeInstanceOf(InvalidNameError);
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
