/** Sends to another process's consumers: the shared inbox and the per-channel capacity. */
import { afterEach, expect, it } from "bun:test";
import { ChannelFull } from "../../src/errors.ts";
import type { Message } from "../../src/layers/layer.ts";
import { waitUntilUp } from "../../src/layers/layer.ts";
import { RedisChannelLayer } from "../../src/layers/redis.ts";
import { describeWithRedis } from "../_support/redis.ts";

function inboxSuite({ url }: { url: () => string }) {
  const open: RedisChannelLayer[] = [];
  afterEach(async () => {
    for (const layer of open.splice(0)) await layer.close();
  });

  async function process(prefix: string, capacity: number) {
    const layer = new RedisChannelLayer({ url: url(), prefix, capacity });
    open.push(layer);
    await waitUntilUp(layer);
    return layer;
  }

  it("applies one channel's capacity without letting a busy neighbour make another channel full", async () => {
    const prefix = `inbox-${crypto.randomUUID()}`;
    const sender = await process(prefix, 2);
    const receiver = await process(prefix, 2);
    const busy = await receiver.newChannel();
    const quiet = await receiver.newChannel();
    const arrived: Message[] = [];
    // A consumer that never gets to its messages: its backlog stays at what it was given.
    receiver.listen(busy, { push: (message) => void arrived.push(message), backlog: 2 });
    receiver.listen(quiet, { push: (message) => void arrived.push(message), backlog: 0 });
    for (let i = 0; i < 5; i++) await sender.send(busy, { type: "for.busy", i });
    // The inbox they share is far from full: a send to the quiet channel is not ChannelFull.
    await sender.send(quiet, { type: "for.quiet" });
    const deadline = Date.now() + 2000;
    while (!arrived.some((message) => message.type === "for.quiet") && Date.now() < deadline)
      await Bun.sleep(5);
    expect(arrived.map((message) => message.type)).toEqual(["for.quiet"]);
    // The busy channel's own capacity was applied where it lives, and counted.
    expect(receiver.droppedFull).toBe(5);
  });

  it("still refuses a plain channel past its capacity with ChannelFull", async () => {
    const layer = await process(`inbox-${crypto.randomUUID()}`, 2);
    await layer.send("plain-worker", { type: "a" });
    await layer.send("plain-worker", { type: "b" });
    await expect(layer.send("plain-worker", { type: "c" })).rejects.toBeInstanceOf(ChannelFull);
  });
}

describeWithRedis("RedisChannelLayer inbox", inboxSuite);
// Before Redis 7 there is no BLMPOP: the inbox falls back to BLPOP, then LPOP for the rest.
describeWithRedis("RedisChannelLayer inbox without BLMPOP", inboxSuite, {
  own: true,
  args: ["--rename-command", "BLMPOP", ""],
});
