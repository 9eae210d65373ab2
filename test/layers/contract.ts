/**
 * The layer contract: what every channel layer must do, whatever its backend. memory.test.ts runs
 * it on InMemoryChannelLayer; the Redis layer runs the same function. Counterparts of Channels'
 * test_inmemorychannel.py and test_layers.py, plus what Channels leaves untested.
 */
import { afterEach, describe, expect, it } from "bun:test";
import {
  ChannelFull,
  ChannelsError,
  InvalidMessageError,
  InvalidNameError,
  LayerClosedError,
} from "../../src/errors.ts";
import type {
  ChannelLayer,
  ChannelSink,
  LayerOptions,
  LocalDelivery,
  Message,
} from "../../src/layers/layer.ts";
import { thrown } from "../_support/errors.ts";

/** A clock the test moves by hand, so expiry is checked without sleeping. */
export interface FakeClock {
  now: number;
}

/** Builds a fresh, empty layer with these options, reading time from `now()`. */
export type LayerFactory = (
  options: LayerOptions & { now: () => number },
) => ContractLayer | Promise<ContractLayer>;

/** The layers the contract covers push into sinks (listen) as well as answering Channels' methods. */
type ContractLayer = ChannelLayer & LocalDelivery;

/** Resolves with the next message, or `null` if none comes within `ms`. */
async function receiveWithin(layer: ChannelLayer, channel: string, ms = 50): Promise<Message | null> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), ms);
  try {
    return await layer.receive(channel, { signal: controller.signal });
  } catch (error) {
    if (controller.signal.aborted) return null;
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/** A sink that collects what the layer pushes and reports a backlog the test controls. */
function collectingSink(): ChannelSink & { messages: Message[]; pending: number } {
  return {
    messages: [],
    pending: 0,
    push(message) {
      this.messages.push(message);
      this.pending++;
    },
    get backlog() {
      return this.pending;
    },
  };
}

/** Waits until `condition()` holds, for at most `ms`. */
async function until(condition: () => boolean, ms = 1000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
}

export function layerContract(name: string, factory: LayerFactory): void {
  describe(`${name}: layer contract`, () => {
    const clock: FakeClock = { now: 1_000_000 };
    const open: ContractLayer[] = [];
    const make = async (options: LayerOptions = {}) => {
      const layer = await factory({ ...options, now: () => clock.now });
      open.push(layer);
      return layer;
    };
    afterEach(async () => {
      for (const layer of open.splice(0)) await layer.close();
    });

    describe("send() and receive()", () => {
      it("delivers a message unchanged", async () => {
        const layer = await make();
        await layer.send("test-channel-1", { type: "test.message", text: "Ahoy-hoy!", n: 1, list: [1, 2] });
        expect(await layer.receive("test-channel-1")).toEqual({
          type: "test.message",
          text: "Ahoy-hoy!",
          n: 1,
          list: [1, 2],
        });
      });

      it("delivers in FIFO order", async () => {
        const layer = await make();
        for (const n of [1, 2, 3]) await layer.send("test-channel-3", { type: `message.${n}` });
        for (const n of [1, 2, 3]) expect((await layer.receive("test-channel-3")).type).toBe(`message.${n}`);
      });

      it("resolves a waiting receive() when a message is sent later", async () => {
        const layer = await make();
        const waiting = layer.receive("later");
        await layer.send("later", { type: "late.message" });
        expect((await waiting).type).toBe("late.message");
      });

      it("stops waiting when the signal aborts", async () => {
        const layer = await make();
        expect(await receiveWithin(layer, "silent", 20)).toBeNull();
        await layer.send("silent", { type: "after.abort" });
        expect((await layer.receive("silent")).type).toBe("after.abort");
      });

      it("takes a caller's AbortSignal.timeout() for what it is, not for a backend that stopped answering", async () => {
        const layer = await make();
        const timedOut = layer.receive("quiet", { signal: AbortSignal.timeout(20) });
        await expect(timedOut).rejects.toMatchObject({ name: "TimeoutError" });
        // The next call goes through at once: the layer did not mark its backend as stalled.
        await layer.send("quiet", { type: "after.timeout" });
        expect((await layer.receive("quiet")).type).toBe("after.timeout");
        if ("status" in layer) expect(layer.status).toBe("up");
      });

      it("copies on send: mutating the sent object changes nothing delivered", async () => {
        const layer = await make();
        const message = { type: "copy.check", nested: { value: 1 } };
        await layer.send("copies", message);
        message.nested.value = 2;
        expect(await layer.receive("copies")).toEqual({ type: "copy.check", nested: { value: 1 } });
      });

      it("receives on a process-local channel from newChannel()", async () => {
        const layer = await make();
        const channel = await layer.newChannel();
        expect(channel).toContain("!");
        await layer.send(channel, { type: "local.message" });
        expect((await layer.receive(channel)).type).toBe("local.message");
      });

      it("gives newChannel() names that are unique and valid", async () => {
        const layer = await make();
        const names = await Promise.all(Array.from({ length: 1000 }, () => layer.newChannel("prefix")));
        expect(new Set(names).size).toBe(1000);
        for (const name of names) expect(name.startsWith("prefix.")).toBe(true);
      });
    });

    describe("capacity", () => {
      it("throws ChannelFull once a channel holds `capacity` undelivered messages", async () => {
        const layer = await make({ capacity: 3 });
        for (let i = 0; i < 3; i++) await layer.send("full-channel", { type: "fill" });
        const error = await layer
          .send("full-channel", { type: "overflow" })
          .catch((caught: unknown) => caught);
        expect(error).toBeInstanceOf(ChannelFull);
        expect((error as ChannelFull).code).toBe("CHANNEL_FULL");
        await layer.receive("full-channel");
        await layer.send("full-channel", { type: "room.again" });
      });

      it("applies per-channel capacities by name pattern without failing other channels", async () => {
        const layer = await make({ capacity: 3, channelCapacity: { "worker.*": 1, "exact-name": 2 } });
        await layer.send("worker.images", { type: "job" });
        await expect(layer.send("worker.images", { type: "job" })).rejects.toBeInstanceOf(ChannelFull);
        await layer.send("exact-name", { type: "a" });
        await layer.send("exact-name", { type: "b" });
        await expect(layer.send("exact-name", { type: "c" })).rejects.toBeInstanceOf(ChannelFull);
        for (let i = 0; i < 3; i++) await layer.send("other", { type: "default.capacity" });
        await expect(layer.send("other", { type: "x" })).rejects.toBeInstanceOf(ChannelFull);
      });
    });

    describe("groups", () => {
      it("sends to every member and not to a discarded one", async () => {
        const layer = await make();
        for (const channel of ["chan-1", "chan-2", "chan-3"]) await layer.groupAdd("test-group", channel);
        await layer.groupDiscard("test-group", "chan-2");
        await layer.groupSend("test-group", { type: "message.1" });
        expect((await layer.receive("chan-1")).type).toBe("message.1");
        expect((await layer.receive("chan-3")).type).toBe("message.1");
        expect(await receiveWithin(layer, "chan-2")).toBeNull();
      });

      it("skips a member whose channel is full and still reaches the others", async () => {
        const layer = await make({ capacity: 3 });
        await layer.groupAdd("busy", "slow-reader");
        await layer.groupAdd("busy", "fast-reader");
        for (let i = 0; i < 5; i++) await layer.groupSend("busy", { type: "tick", i });
        const slow: number[] = [];
        for (
          let message = await receiveWithin(layer, "slow-reader");
          message;
          message = await receiveWithin(layer, "slow-reader")
        ) {
          slow.push(message.i as number);
        }
        expect(slow).toEqual([0, 1, 2]);
      });

      it("gives each member its own copy", async () => {
        const layer = await make();
        await layer.groupAdd("copies", "a");
        await layer.groupAdd("copies", "b");
        await layer.groupSend("copies", { type: "shared", list: [1] });
        const first = await layer.receive("a");
        (first.list as number[]).push(2);
        expect((await layer.receive("b")).list).toEqual([1]);
      });

      it("does nothing for a group with no members", async () => {
        const layer = await make();
        await layer.groupSend("nobody-here", { type: "void" });
        await layer.groupDiscard("nobody-here", "some-channel");
      });
    });

    describe("expiry", () => {
      it("drops a message not received within `expiry` seconds", async () => {
        const layer = await make({ expiry: 60 });
        await layer.send("expiring", { type: "old" });
        clock.now += 61_000;
        expect(await receiveWithin(layer, "expiring")).toBeNull();
      });

      it("keeps what was sent after the expired ones (Channels' test_expiry_multi)", async () => {
        const layer = await make({ expiry: 60 });
        for (const n of [1, 2, 3]) await layer.send("multi", { type: `message.${n}` });
        expect((await layer.receive("multi")).type).toBe("message.1");
        clock.now += 61_000;
        await layer.send("multi", { type: "message.4" });
        expect((await layer.receive("multi")).type).toBe("message.4");
        expect(await receiveWithin(layer, "multi")).toBeNull();
      });

      it("frees capacity taken by expired messages", async () => {
        const layer = await make({ capacity: 1, expiry: 10 });
        await layer.send("cap", { type: "stale" });
        clock.now += 11_000;
        await layer.send("cap", { type: "fresh" });
        expect((await layer.receive("cap")).type).toBe("fresh");
      });

      it("ends a membership after `groupExpiry` seconds unless groupAdd renews it", async () => {
        const layer = await make({ groupExpiry: 100 });
        await layer.groupAdd("members", "stale-member");
        await layer.groupAdd("members", "renewed-member");
        clock.now += 60_000;
        await layer.groupAdd("members", "renewed-member");
        clock.now += 60_000;
        await layer.groupSend("members", { type: "ping" });
        expect(await receiveWithin(layer, "stale-member")).toBeNull();
        expect((await layer.receive("renewed-member")).type).toBe("ping");
      });
    });

    describe("names", () => {
      it("accepts names of up to 99 characters and refuses 100", async () => {
        const layer = await make();
        await layer.send("a".repeat(99), { type: "ok" });
        await layer.groupAdd("g".repeat(99), "c".repeat(99));
        const channelError = await layer
          .send("a".repeat(100), { type: "x" })
          .catch((caught: unknown) => caught);
        expect(channelError).toBeInstanceOf(InvalidNameError);
        expect((channelError as InvalidNameError).code).toBe("INVALID_CHANNEL_NAME");
        const groupError = await layer.groupAdd("g".repeat(100), "ok").catch((caught: unknown) => caught);
        expect((groupError as InvalidNameError).code).toBe("INVALID_GROUP_NAME");
      });

      it.each(["¯\\_(ツ)_/¯", "with space", "", "tab\there", "new\nline", "naïve", "a!b!c", "slash/name"])(
        "refuses the channel name %j",
        async (bad) => {
          const layer = await make();
          const error = await layer.send(bad, { type: "x" }).catch((caught: unknown) => caught);
          expect((error as InvalidNameError).code).toBe("INVALID_CHANNEL_NAME");
        },
      );

      it("allows ! in channel names (process-local) but not in group names", async () => {
        const layer = await make();
        await layer.send("specific.abc!def", { type: "ok" });
        await layer.send("ends-in!", { type: "ok" });
        const error = await layer.groupAdd("group!x", "chan").catch((caught: unknown) => caught);
        expect((error as InvalidNameError).code).toBe("INVALID_GROUP_NAME");
      });

      it("checks names in every call", async () => {
        const layer = await make();
        for (const call of [
          () => layer.receive("bad name"),
          () => layer.groupAdd("ok", "bad name"),
          () => layer.groupDiscard("bad name", "ok"),
          () => layer.groupSend("bad name", { type: "x" }),
        ]) {
          expect(await call().catch((caught: unknown) => caught)).toBeInstanceOf(InvalidNameError);
        }
      });
    });

    describe("messages", () => {
      it.each([[null], ["text"], [[1, 2]], [{}], [{ type: "" }], [{ type: 5 }]])(
        "refuses %j as a message",
        async (bad) => {
          const layer = await make();
          const error = await layer
            .send("chan", bad as unknown as Message)
            .catch((caught: unknown) => caught);
          expect(error).toBeInstanceOf(InvalidMessageError);
          expect((error as InvalidMessageError).code).toBe("INVALID_MESSAGE");
          const groupError = await layer
            .groupSend("group", bad as unknown as Message)
            .catch((caught: unknown) => caught);
          expect(groupError).toBeInstanceOf(InvalidMessageError);
        },
      );
    });

    describe("what a message can carry", () => {
      // What crosses a process boundary must arrive as it left: bytes stay bytes (not a string, not
      // an object of indices), nested maps stay maps, integers stay exact.
      const carried = {
        type: "data.kinds",
        bytes: new Uint8Array([0, 1, 2, 253, 254, 255]),
        empty: new Uint8Array(0),
        nested: { list: [1, [2, { deep: "x" }]], map: { a: { b: { c: true } } } },
        unicode: "héllo wörld 日本語 😀",
        nothing: null,
        yes: true,
        no: false,
        small: 42,
        negative: -7,
        safe: Number.MAX_SAFE_INTEGER,
        float: 1.5,
        big: 2n ** 63n - 1n,
        negativeBig: -(2n ** 62n),
      };

      const expectCarried = (message: Message | null) => {
        expect(message).toEqual(carried);
        expect(message?.bytes).toBeInstanceOf(Uint8Array);
        expect(typeof message?.big).toBe("bigint");
        expect(typeof message?.safe).toBe("number");
      };

      it("round-trips bytes, nested data, unicode, null, booleans and integers through send()", async () => {
        const layer = await make();
        await layer.send("data-channel", carried);
        expectCarried(await layer.receive("data-channel"));
      });

      it("round-trips them through groupSend() to a plain member and a local consumer", async () => {
        const layer = await make();
        const local = await layer.newChannel();
        const sink = collectingSink();
        layer.listen(local, sink);
        await layer.groupAdd("data-group", local);
        await layer.groupAdd("data-group", "data-plain");
        await layer.groupSend("data-group", carried);
        expectCarried(await receiveWithin(layer, "data-plain", 1000));
        await until(() => sink.messages.length === 1);
        expectCarried(sink.messages[0] ?? null);
      });

      const circular: Record<string, unknown> = { type: "circular" };
      circular.self = circular;
      const nested = (levels: number) => {
        let value: unknown = "leaf";
        for (let i = 0; i < levels; i++) value = [value];
        return value;
      };
      class Point {
        x = 1;
      }
      const uncarriable: Array<[string, Message]> = [
        ["a function", { type: "bad", run: () => 1 }],
        ["a symbol", { type: "bad", tag: Symbol("x") }],
        ["a cycle", circular as Message],
        ["nesting past 64 levels", { type: "bad", data: nested(64) }],
        ["a Map", { type: "bad", map: new Map([["a", 1]]) }],
        ["a class instance", { type: "bad", point: new Point() }],
        ["a __proto__ key", JSON.parse('{"type":"bad","__proto__":{"polluted":true}}') as Message],
      ];

      it.each(uncarriable)(
        "refuses %s with InvalidMessageError in send() and groupSend(), sending nothing",
        async (_what, bad) => {
          const layer = await make();
          const local = await layer.newChannel();
          const sink = collectingSink();
          layer.listen(local, sink);
          await layer.groupAdd("bad-group", local);
          for (const call of [
            () => layer.send("data-channel", bad),
            () => layer.groupSend("bad-group", bad),
          ]) {
            const error = await call().catch((caught: unknown) => caught);
            expect(error).toBeInstanceOf(InvalidMessageError);
            expect((error as InvalidMessageError).code).toBe("INVALID_MESSAGE");
          }
          expect(await receiveWithin(layer, "data-channel")).toBeNull();
          expect(sink.messages).toEqual([]);
        },
      );

      it("carries nesting up to the limit", async () => {
        const layer = await make();
        const deep = { type: "deep", data: nested(62) };
        await layer.send("data-channel", deep);
        expect(await layer.receive("data-channel")).toEqual(deep);
      });
    });

    describe("listen()", () => {
      it("pushes messages for a local channel straight into the sink", async () => {
        const layer = await make();
        const channel = await layer.newChannel();
        const sink = collectingSink();
        layer.listen(channel, sink);
        await layer.send(channel, { type: "direct" });
        await layer.groupAdd("room", channel);
        await layer.groupSend("room", { type: "via.group" });
        // Across processes a group message comes back through Redis: allow it a moment.
        await until(() => sink.messages.length === 2);
        expect(sink.messages.map((message) => message.type)).toEqual(["direct", "via.group"]);
      });

      it("counts the sink's backlog against capacity", async () => {
        const layer = await make({ capacity: 2 });
        const channel = await layer.newChannel();
        const sink = collectingSink();
        layer.listen(channel, sink);
        await layer.send(channel, { type: "one" });
        await layer.send(channel, { type: "two" });
        await expect(layer.send(channel, { type: "three" })).rejects.toBeInstanceOf(ChannelFull);
        sink.pending = 0; // the consumer caught up
        await layer.send(channel, { type: "four" });
        expect(sink.messages.map((message) => message.type)).toEqual(["one", "two", "four"]);
      });

      it("hands over what was buffered before listening, and stops when told", async () => {
        const layer = await make();
        const channel = await layer.newChannel();
        await layer.send(channel, { type: "early" });
        const sink = collectingSink();
        layer.listen(channel, sink);
        expect(sink.messages.map((message) => message.type)).toEqual(["early"]);
        layer.unlisten(channel, collectingSink()); // not its listener: changes nothing
        await layer.send(channel, { type: "still.listening" });
        layer.unlisten(channel, sink);
        await layer.send(channel, { type: "after.stop" });
        expect(sink.messages.map((message) => message.type)).toEqual(["early", "still.listening"]);
      });

      it("refuses a second listener on one channel", async () => {
        const layer = await make();
        const channel = await layer.newChannel();
        layer.listen(channel, collectingSink());
        const error = thrown(() => layer.listen(channel, collectingSink()));
        expect(error).toBeInstanceOf(ChannelsError);
        expect((error as ChannelsError).code).toBe("CHANNEL_LISTENED");
      });
    });

    describe("flush() and close()", () => {
      it("flush() drops every message and membership", async () => {
        const layer = await make();
        await layer.send("flushed", { type: "gone" });
        await layer.groupAdd("flushed-group", "member");
        await layer.flush();
        expect(await receiveWithin(layer, "flushed")).toBeNull();
        await layer.groupSend("flushed-group", { type: "nobody" });
        expect(await receiveWithin(layer, "member")).toBeNull();
      });

      it("close() rejects waiting receives and refuses further use", async () => {
        const layer = await make();
        const waiting = layer.receive("waiting").catch((caught: unknown) => caught);
        await layer.close();
        expect(await waiting).toBeInstanceOf(LayerClosedError);
        const error = await layer.send("any", { type: "x" }).catch((caught: unknown) => caught);
        expect((error as LayerClosedError).code).toBe("LAYER_CLOSED");
      });
    });
  });
}
