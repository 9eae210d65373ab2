/**
 * What arrives from Redis is input like any other: a payload that is not a layer message (another
 * app on the same prefix, a hand-typed PUBLISH, a corrupted entry) is logged and skipped, and the
 * layer keeps delivering what comes after it.
 */
import { afterEach, expect, it } from "bun:test";
import Redis from "ioredis";
import type { Message } from "../../src/layers/layer.ts";
import { waitUntilUp } from "../../src/layers/layer.ts";
import { RedisChannelLayer } from "../../src/layers/redis.ts";
import type { Logger } from "../../src/log.ts";
import { describeWithRedis } from "../_support/redis.ts";

/** Waits until `condition()` holds, for at most two seconds. */
async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 2000;
  while (!condition() && Date.now() < deadline) await Bun.sleep(5);
}

describeWithRedis("RedisChannelLayer reading what others wrote", ({ url }) => {
  const open: Array<{ close(): unknown }> = [];
  afterEach(async () => {
    for (const item of open.splice(0)) await item.close();
  });

  const setup = async () => {
    const prefix = `wire-${crypto.randomUUID()}`;
    const errors: string[] = [];
    const logger: Logger = {
      debug() {},
      info() {},
      warn() {},
      error: (message) => void errors.push(message),
    };
    const layer = new RedisChannelLayer({ url: url(), prefix, logger });
    const redis = new Redis(url());
    open.push(layer, { close: () => redis.disconnect() });
    await waitUntilUp(layer);
    const channel = await layer.newChannel();
    const arrived: Message[] = [];
    layer.listen(channel, { push: (message) => void arrived.push(message), backlog: 0 });
    return { prefix, errors, layer, redis, channel, arrived };
  };

  it("skips group payloads that are not messages, and delivers the next one", async () => {
    const { prefix, errors, layer, redis, channel, arrived } = await setup();
    await layer.groupAdd("room", channel);
    for (const junk of [
      "not base64 at all ###",
      "aGVsbG8=",
      Buffer.from([0xc1, 0xff, 0x00]).toString("base64"),
      "",
    ]) {
      await redis.publish(`${prefix}:gpub:room`, junk);
    }
    // msgpack of a map without "type": decodes, but is not a layer message.
    await redis.publish(`${prefix}:gpub:room`, Buffer.from([0x81, 0xa1, 0x61, 0x01]).toString("base64"));
    await layer.groupSend("room", { type: "after.junk" });
    await until(() => arrived.length > 0);
    expect(arrived).toEqual([{ type: "after.junk" }]);
    expect(errors.length).toBe(5);
    expect(errors.every((line) => line.includes("unreadable group message on room"))).toBe(true);
  });

  it("delivers every message of a pub/sub message that carries several, in order, skipping an unreadable one", async () => {
    const { prefix, errors, layer, redis, channel, arrived } = await setup();
    await layer.groupAdd("room", channel);
    const payloads = [JSON.stringify({ type: "first" }), "###", JSON.stringify({ type: "second" })];
    await redis.publish(`${prefix}:gpub:room`, payloads.map((payload) => `${payload}\n`).join(""));
    await until(() => arrived.length >= 2);
    expect(arrived).toEqual([{ type: "first" }, { type: "second" }]);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain("unreadable group message on room");
  });

  it("skips inbox entries that are not entries, and delivers the next one", async () => {
    const { prefix, errors, redis, channel, arrived } = await setup();
    const processId = /\.([^.!]+)!/.exec(channel)![1];
    const inbox = `${prefix}:inbox:${processId}`;
    await redis.rpush(inbox, "no head at all", "abc:def:ghi", `${Date.now() + 60_000}:${channel}:###`);
    const sender = new RedisChannelLayer({ url: url(), prefix });
    open.push(sender);
    await sender.send(channel, { type: "after.junk" });
    await until(() => arrived.length > 0);
    expect(arrived).toEqual([{ type: "after.junk" }]);
    expect(errors.filter((line) => line.includes("unreadable inbox entry")).length).toBe(3);
  });
});
