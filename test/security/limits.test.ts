import { describe, expect, it } from "bun:test";
import type { Peer } from "../../src/adapters/runtime.ts";
import { Consumer } from "../../src/consumer/consumer.ts";
import type { Frame } from "../../src/consumer/frames.ts";
import { ConsumerRunner } from "../../src/consumer/runner.ts";
import { createScope } from "../../src/consumer/scope.ts";
import { InMemoryChannelLayer } from "../../src/layers/memory.ts";
import { createLogger } from "../../src/log.ts";
import { DEFAULT_LIMITS, frameBytes, type Limits, RateLimiter } from "../../src/security/limits.ts";

class FakePeer implements Peer {
  sent: Array<string | Uint8Array> = [];
  closes: number[] = [];
  bufferedAmount = 0;
  terminated = false;
  send(data: string | Uint8Array) {
    this.sent.push(data);
  }
  close(code: number) {
    this.closes.push(code);
  }
  terminate() {
    this.terminated = true;
  }
}

class Echo extends Consumer {
  override receive(frame: Frame) {
    return this.send(frame);
  }
}

async function open(limits: Partial<Limits>, consumer: typeof Consumer = Echo) {
  const runner = new ConsumerRunner(consumer, createScope("/limits"), {
    layer: new InMemoryChannelLayer(),
    logger: createLogger("silent"),
    limits: { ...DEFAULT_LIMITS, ...limits },
  });
  await runner.start();
  const peer = new FakePeer();
  runner.open(peer);
  return { runner, peer };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("frame size limit", () => {
  it("closes with 1009 on a frame over maxFrameBytes, text or binary, and handles nothing after", async () => {
    for (const big of ["é".repeat(600), new Uint8Array(1025)]) {
      const { runner, peer } = await open({ maxFrameBytes: 1024 });
      runner.receive("small");
      runner.receive(big);
      runner.receive("after");
      await tick();
      expect(peer.closes).toEqual([1009]);
      expect(peer.sent).toEqual(["small"]);
    }
  });

  it("counts UTF-8 bytes, not characters", () => {
    expect(frameBytes("é".repeat(600), 1024)).toBe(1200);
    expect(frameBytes("abc", 1024)).toBe(3);
  });
});

describe("rate limit", () => {
  it("closes with 1008 once a client sends more than maxMessagesPerSecond in a burst", async () => {
    const { runner, peer } = await open({ maxMessagesPerSecond: 10 });
    for (let i = 0; i < 11; i++) runner.receive(`m${i}`);
    await tick();
    expect(peer.closes).toEqual([1008]);
    expect(peer.sent).toHaveLength(10);
  });

  it("refills over time", async () => {
    const limiter = new RateLimiter(100);
    for (let i = 0; i < 100; i++) expect(limiter.take()).toBe(true);
    expect(limiter.take()).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(limiter.take()).toBe(true);
  });
});

describe("slow clients", () => {
  it("closes with 1013 and sends nothing more once the backlog passes maxBufferedBytes (close policy)", async () => {
    const { runner, peer } = await open({ maxBufferedBytes: 1000, slowClientPolicy: "close" });
    runner.receive("before");
    await tick();
    peer.bufferedAmount = 5000; // the client stopped reading
    runner.receive("too much");
    runner.receive("and more");
    await tick();
    expect(peer.sent).toEqual(["before"]);
    expect(peer.closes).toEqual([1013]);
  });

  it("drops frames while the client lags and resumes when it catches up (drop policy)", async () => {
    const { runner, peer } = await open({ maxBufferedBytes: 1000, slowClientPolicy: "drop" });
    peer.bufferedAmount = 5000;
    runner.receive("dropped");
    await tick();
    peer.bufferedAmount = 0;
    runner.receive("delivered");
    await tick();
    expect(peer.sent).toEqual(["delivered"]);
    expect(peer.closes).toEqual([]);
    expect(runner.droppedFrames).toBe(1);
  });

  it("bounds what is sent before the socket opens too", async () => {
    class Chatty extends Consumer {
      override async connect() {
        await this.accept();
        for (let i = 0; i < 100; i++) await this.send({ text: "x".repeat(100) });
      }
    }
    const runner = new ConsumerRunner(Chatty, createScope("/limits"), {
      layer: new InMemoryChannelLayer(),
      logger: createLogger("silent"),
      limits: { ...DEFAULT_LIMITS, maxBufferedBytes: 1000 },
    });
    await runner.start();
    await tick();
    const peer = new FakePeer();
    runner.open(peer);
    expect(peer.sent.length).toBeLessThanOrEqual(11);
    expect(peer.closes).toEqual([1013]);
  });
});

describe("unhandled frames", () => {
  it("closes with 1008 once frames waiting for a slow handler pass maxPendingBytes", async () => {
    let release!: () => void;
    const blocked = new Promise<void>((resolve) => {
      release = resolve;
    });
    class Slow extends Consumer {
      override async receive(frame: Frame) {
        await blocked;
        await this.send(frame);
      }
    }
    const { runner, peer } = await open({ maxPendingBytes: 2048 }, Slow);
    for (let i = 0; i < 10; i++) runner.receive("x".repeat(500)); // 5,000 bytes behind a stuck handler
    release();
    await tick();
    await tick();
    expect(peer.closes).toEqual([1008]);
    expect(peer.sent.length).toBe(4); // the frames within the bound were handled, in order
  });
});
