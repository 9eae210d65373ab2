import { describe, expect, it } from "bun:test";
import { ChannelListenedError } from "../../src/errors.ts";
import { InMemoryChannelLayer } from "../../src/layers/memory.ts";
import { layerContract } from "./contract.ts";

layerContract("InMemoryChannelLayer", (options) => new InMemoryChannelLayer(options));

describe("InMemoryChannelLayer bookkeeping", () => {
  it("forgets a channel once its last message is received (Channels' test_send_receive)", async () => {
    const layer = new InMemoryChannelLayer();
    await layer.send("test-channel-1", { type: "one" });
    await layer.send("test-channel-1", { type: "two" });
    await layer.receive("test-channel-1");
    expect(layer.size.channels).toBe(1);
    await layer.receive("test-channel-1");
    expect(layer.size.channels).toBe(0);
  });

  it("removes a group when its last member leaves", async () => {
    const layer = new InMemoryChannelLayer();
    await layer.groupAdd("room", "a");
    await layer.groupAdd("room", "b");
    await layer.groupDiscard("room", "a");
    expect(layer.groupChannels("room")).toEqual(["b"]);
    await layer.groupDiscard("room", "b");
    expect(layer.size).toEqual({ channels: 0, groups: 0, memberships: 0 });
  });

  it("sweeps expired messages and memberships of channels nobody touches again", async () => {
    let now = 0;
    const layer = new InMemoryChannelLayer({ expiry: 10, groupExpiry: 20, now: () => now });
    for (let i = 0; i < 100; i++) {
      await layer.send(`abandoned-${i}`, { type: "never.read" });
      await layer.groupAdd(`room-${i}`, `abandoned-${i}`);
    }
    expect(layer.size.channels).toBe(100);
    now += 30_000;
    await layer.send("someone-else", { type: "trigger" });
    expect(layer.size).toEqual({ channels: 1, groups: 0, memberships: 0 });
  });

  it("takes a channel out of its groups when one of its messages expires unread", async () => {
    let now = 0;
    const layer = new InMemoryChannelLayer({ expiry: 10, now: () => now });
    await layer.groupAdd("room", "dead-reader");
    await layer.groupAdd("room", "live-reader");
    await layer.groupSend("room", { type: "first" });
    await layer.receive("live-reader");
    now += 11_000;
    await layer.groupSend("room", { type: "second" });
    expect(layer.groupChannels("room")).toEqual(["live-reader"]);
  });

  it("counts group messages skipped because a member was full", async () => {
    const layer = new InMemoryChannelLayer({ capacity: 1 });
    await layer.groupAdd("room", "reader");
    await layer.groupSend("room", { type: "a" });
    await layer.groupSend("room", { type: "b" });
    expect(layer.skippedFull).toBe(1);
  });
});

describe("InMemoryChannelLayer memberships of connected consumers", () => {
  it("keeps a listening channel in its groups past groupExpiry, and drops a plain one", async () => {
    let now = 0;
    const layer = new InMemoryChannelLayer({ groupExpiry: 10, now: () => now });
    const live = await layer.newChannel();
    const arrived: string[] = [];
    layer.listen(live, { push: (message) => void arrived.push(message.type), backlog: 0 });
    await layer.groupAdd("room", live);
    await layer.groupAdd("room", "plain-worker");
    now += 11_000;
    await layer.groupSend("room", { type: "still.here" });
    expect(arrived).toEqual(["still.here"]);
    expect(layer.groupChannels("room")).toEqual([live]);
  });
});

describe("InMemoryChannelLayer receive() and abort signals", () => {
  it("removes its abort listener once the message arrives", async () => {
    const layer = new InMemoryChannelLayer();
    const listeners = new Set<unknown>();
    const signal = {
      aborted: false,
      throwIfAborted() {},
      addEventListener: (_type: string, listener: unknown) => listeners.add(listener),
      removeEventListener: (_type: string, listener: unknown) => listeners.delete(listener),
    } as unknown as AbortSignal;
    for (let i = 0; i < 100; i++) {
      const waiting = layer.receive("worker", { signal });
      await layer.send("worker", { type: "job" });
      await waiting;
    }
    expect(listeners.size).toBe(0);
  });
});

describe("InMemoryChannelLayer listen() and a waiting receive()", () => {
  it("rejects a receive() already waiting on a channel that gets a listener, instead of leaving it hanging", async () => {
    const layer = new InMemoryChannelLayer();
    const channel = await layer.newChannel();
    const waiting = layer.receive(channel).catch((error: unknown) => error);
    layer.listen(channel, { push() {}, backlog: 0 });
    expect(await waiting).toBeInstanceOf(ChannelListenedError);
  });
});
