/**
 * Workers on the memory layer: each message sent to the channel reaches the handler named after
 * its type, one at a time and in order; errors and unknown types are logged and the worker goes
 * on; stopping waits for the message in hand and leaves the rest queued.
 */
import { afterEach, describe, expect, it } from "bun:test";
import { resolveWorkers, startBackground } from "../../src/background/background.ts";
import { Worker } from "../../src/background/worker.ts";
import { runWorker } from "../../src/background/worker-loop.ts";
import { LayerUnavailableError } from "../../src/errors.ts";
import type { ChannelLayer, Message } from "../../src/layers/layer.ts";
import { InMemoryChannelLayer } from "../../src/layers/memory.ts";
import type { Logger } from "../../src/log.ts";
import { workerBacklog } from "../../src/metrics/prometheus.ts";

function recorder(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const log = (message: string) => void lines.push(message);
  return { lines, debug: log, info: log, warn: log, error: log };
}

const seen: string[] = [];

class Jobs extends Worker {
  async jobRun(message: { id: number; ms?: number }) {
    seen.push(`start ${message.id}`);
    await new Promise((resolve) => setTimeout(resolve, message.ms ?? 0));
    seen.push(`end ${message.id} on ${this.channelName}`);
  }

  async jobFail() {
    throw new Error("broken job");
  }
}

describe("workers", () => {
  const layers: ChannelLayer[] = [];
  afterEach(async () => {
    seen.length = 0;
    for (const layer of layers.splice(0)) await layer.close();
  });
  const memory = () => {
    const layer = new InMemoryChannelLayer();
    layers.push(layer);
    return layer;
  };

  it("handles each message by type, one at a time, in order; errors and unknown types are logged and skipped", async () => {
    const layer = memory();
    const logger = recorder();
    const controller = new AbortController();
    const stats = { handled: 0, failed: 0 };
    const loop = runWorker(Jobs, { channel: "jobs", layer, logger, signal: controller.signal, stats });
    await layer.send("jobs", { type: "job.run", id: 1, ms: 20 });
    await layer.send("jobs", { type: "job.fail" });
    await layer.send("jobs", { type: "job.unknown" });
    await layer.send("jobs", { type: "send" }); // a framework name: never a handler
    await layer.send("jobs", { type: "job.run", id: 2 });
    while (stats.handled + stats.failed < 5) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(seen).toEqual(["start 1", "end 1 on jobs", "start 2", "end 2 on jobs"]);
    expect(stats).toEqual({ handled: 2, failed: 3 });
    expect(logger.lines).toEqual([
      "worker jobs: job.fail failed",
      "worker jobs: job.unknown failed",
      "worker jobs: send failed",
    ]);
    controller.abort();
    await loop;
  });

  it("stops after the message in hand and leaves the queued ones on the channel", async () => {
    const layer = memory();
    const controller = new AbortController();
    const loop = runWorker(Jobs, { channel: "jobs", layer, logger: recorder(), signal: controller.signal });
    await layer.send("jobs", { type: "job.run", id: 1, ms: 50 });
    await layer.send("jobs", { type: "job.run", id: 2 });
    while (seen.length === 0) await new Promise((resolve) => setTimeout(resolve, 2));
    controller.abort();
    await loop;
    expect(seen).toEqual(["start 1", "end 1 on jobs"]);
    expect(await layer.receive("jobs")).toEqual({ type: "job.run", id: 2 });
  });

  it("waits for a layer that is away and goes on when it is back", async () => {
    const layer = memory();
    let failures = 1;
    const flaky = Object.create(layer) as ChannelLayer;
    flaky.receive = async (channel: string, options?: { signal?: AbortSignal }): Promise<Message> => {
      if (failures-- > 0) throw new LayerUnavailableError("redis is away");
      return layer.receive(channel, options);
    };
    const logger = recorder();
    const controller = new AbortController();
    const loop = runWorker(Jobs, { channel: "jobs", layer: flaky, logger, signal: controller.signal });
    await layer.send("jobs", { type: "job.run", id: 7 });
    while (seen.length < 2) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(seen).toEqual(["start 7", "end 7 on jobs"]);
    expect(logger.lines[0]).toContain("worker jobs: cannot receive");
    controller.abort();
    await loop;
  });

  it("names a worker's channel after its file, and refuses files that are not workers", () => {
    const manifest = (file: string, module: Record<string, unknown>) => ({
      workers: [{ file, module }],
      tasks: [],
    });
    expect(resolveWorkers(manifest("jobs/resize.ts", { default: Jobs }))[0]).toMatchObject({
      channel: "jobs.resize",
      file: "workers/jobs/resize.ts",
    });
    expect(() => resolveWorkers(manifest("plain.ts", { default: class {} }))).toThrow(
      /workers\/plain\.ts: A worker file must default-export a class extending Worker/,
    );
    expect(() => resolveWorkers(manifest("bad!name.ts", { default: Jobs }))).toThrow(/workers\/bad!name\.ts/);
    expect(() => resolveWorkers(manifest("has space.ts", { default: Jobs }))).toThrow(
      /workers\/has space\.ts/,
    );
  });

  it("startBackground() runs workers and stop() waits for the handler in hand", async () => {
    const layer = memory();
    const running = startBackground({
      workers: [{ file: "workers/jobs.ts", channel: "jobs", worker: Jobs }],
      tasks: [],
      layer,
      logger: recorder(),
    });
    await layer.send("jobs", { type: "job.run", id: 3, ms: 50 });
    while (seen.length === 0) await new Promise((resolve) => setTimeout(resolve, 2));
    await running.stop();
    expect(seen).toEqual(["start 3", "end 3 on jobs"]);
    expect(running.stats.workers.get("jobs")).toEqual({ handled: 1, failed: 0 });
  });

  it("reports each worker channel's backlog for the metrics", async () => {
    const layer = memory();
    for (const n of [1, 2, 3]) await layer.send("jobs", { type: "job.run", id: n });
    expect(await workerBacklog(layer, ["jobs", "idle"])).toEqual(
      new Map([
        ["jobs", 3],
        ["idle", 0],
      ]),
    );
    await layer.receive("jobs");
    expect((await workerBacklog(layer, ["jobs"])).get("jobs")).toBe(2);
  });
});
