/**
 * Background work across processes on one Redis: a Bun server, a Node server and a `worker`
 * command process. A job posted to a view in one process is handled exactly once by the competing
 * workers; the probe task runs in one process per interval and moves to another within two
 * intervals when its holder is killed; /metrics moves when a connection comes and goes; /health
 * answers 503 while Redis is down and 200 once it is back.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { join } from "node:path";
import type { Message } from "../../src/layers/layer.ts";
import { waitUntilUp } from "../../src/layers/layer.ts";
import { RedisChannelLayer } from "../../src/layers/redis.ts";
import { collectOutput } from "../_support/output.ts";
import { describeWithRedis, type RedisProcess } from "../_support/redis.ts";
import { connect } from "./_client.ts";
import { type ServerProcess, startServer } from "./_fixture.ts";

/** The probe task's interval in these tests, seconds. */
const INTERVAL = 0.5;
const fixtureApp = join(import.meta.dir, "..", "fixtures", "server-app");

/** Every message on `channel` until `ms` pass with nothing new, or `until` holds. */
async function collect(
  layer: RedisChannelLayer,
  channel: string,
  ms: number,
  until?: (all: Message[]) => boolean,
) {
  const all: Message[] = [];
  for (;;) {
    try {
      all.push(await layer.receive(channel, { signal: AbortSignal.timeout(ms) }));
    } catch {
      return all;
    }
    if (until?.(all)) return all;
  }
}

async function metricsOf(server: ServerProcess): Promise<Record<string, number>> {
  const text = await (await fetch(new URL("/metrics", server.url))).text();
  const values: Record<string, number> = {};
  for (const line of text.split("\n")) {
    const match = /^(\S+) (\S+)$/.exec(line);
    if (match && !line.startsWith("#")) values[match[1]!] = Number(match[2]);
  }
  return values;
}

describeWithRedis("background work on Redis: Bun and Node servers and a worker process", ({ url }) => {
  const prefix = `background-${crypto.randomUUID().slice(0, 8)}`;
  let bun: ServerProcess;
  let node: ServerProcess;
  let worker: ReturnType<typeof Bun.spawn>;
  let workerOutput: ReturnType<typeof collectOutput>;
  let layer: RedisChannelLayer;

  beforeAll(async () => {
    const env = {
      CHANNEL_LAYER: "redis",
      REDIS_URL: url(),
      REDIS_PREFIX: prefix,
      PROBE_TASK_SECONDS: String(INTERVAL),
    };
    [bun, node] = await Promise.all([startServer("bun", env), startServer("node", env)]);
    worker = Bun.spawn(["bun", join(import.meta.dir, "..", "..", "src", "cli", "worker.ts"), "probe"], {
      cwd: fixtureApp,
      env: { ...process.env, ...env, NO_COLOR: "1" },
      stdout: "pipe",
      stderr: "pipe",
    });
    workerOutput = collectOutput(
      worker.stdout as ReadableStream<Uint8Array>,
      worker.stderr as ReadableStream<Uint8Array>,
    );
    await workerOutput.waitFor("consuming probe");
    layer = new RedisChannelLayer({ url: url(), prefix });
    await waitUntilUp(layer);
  }, 30_000);

  afterAll(async () => {
    bun?.kill();
    node?.kill();
    worker?.kill("SIGKILL");
    await layer?.close();
  });

  it("hands a job from a view to the workers: each job handled once, the view answering at once", async () => {
    const ids = Array.from({ length: 30 }, (_, id) => id);
    for (const id of ids) {
      const response = await fetch(new URL("/api/probe-jobs", bun.url), {
        method: "POST",
        body: JSON.stringify({ id, ms: 20 }),
      });
      expect(response.status).toBe(202);
    }
    const done = await collect(layer, "test.probe-done", 3000, (all) => all.length === ids.length);
    expect(done.map((message) => message.id).sort((a, b) => Number(a) - Number(b))).toEqual(ids);
    // Nothing twice: the channel stays empty afterwards.
    expect(await collect(layer, "test.probe-done", 300)).toEqual([]);
    const byProcess = new Set(done.map((message) => message.pid));
    expect([...byProcess].every((pid) => [bun.pid, node.pid, worker.pid].includes(pid as number))).toBe(true);
  });

  it("the worker command finishes the job in hand on SIGTERM and exits", async () => {
    await layer.send("probe", { type: "probe.job", id: 99, ms: 300, reply: "test.worker-stop" });
    // Not asserting which process takes it: whichever did answers, and the worker process stops cleanly.
    const answered = collect(layer, "test.worker-stop", 3000, (all) => all.length === 1);
    await new Promise((resolve) => setTimeout(resolve, 50));
    worker.kill("SIGTERM");
    expect(await worker.exited).toBe(0);
    expect(workerOutput.text()).toContain("stopped");
    expect((await answered).map((message) => message.id)).toEqual([99]);
  });

  it("/metrics moves when a WebSocket connection comes and goes", async () => {
    const before = await metricsOf(bun);
    const socket = await connect(bun.wsUrl("/echo"));
    socket.send("ping");
    expect(await socket.next()).toBe("ping");
    socket.close();
    await socket.closed;
    let after = await metricsOf(bun);
    for (
      let i = 0;
      i < 50 &&
      after.hono_channels_connections_closed_total === before.hono_channels_connections_closed_total;
      i++
    ) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      after = await metricsOf(bun);
    }
    expect(after.hono_channels_connections_opened_total).toBe(
      before.hono_channels_connections_opened_total! + 1,
    );
    expect(after.hono_channels_connections_closed_total).toBe(
      before.hono_channels_connections_closed_total! + 1,
    );
    expect(after.hono_channels_frames_received_total).toBe(before.hono_channels_frames_received_total! + 1);
    expect(after.hono_channels_frames_sent_total).toBe(before.hono_channels_frames_sent_total! + 1);
    expect(after.hono_channels_layer_up).toBe(1);
    expect(after['hono_channels_worker_backlog{channel="probe"}']).toBe(0); // read from Redis (LLEN)
    expect(after.hono_channels_handler_duration_seconds_count).toBeGreaterThan(
      before.hono_channels_handler_duration_seconds_count!,
    );
  });

  it(`runs the probe task in one process per ${INTERVAL} s interval, and moves it within two intervals when its holder is killed`, async () => {
    await collect(layer, "test.task-runs", 50); // whatever ran before this test
    const runs = await collect(layer, "test.task-runs", 3000, (all) => all.length === 6);
    expect(runs.length).toBe(6);
    const holder = runs[0]!.pid;
    expect(runs.every((run) => run.pid === holder)).toBe(true);
    const at = runs.map((run) => run.at as number);
    const gaps = at.slice(1).map((time, i) => time - at[i]!);
    // Two runners would put runs closer than half an interval apart somewhere.
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(INTERVAL * 1000 * 0.7);

    const [dying, survivor] = holder === bun.pid ? [bun, node] : [node, bun];
    const killedAt = Date.now();
    dying.kill();
    const after = await collect(layer, "test.task-runs", 4000, (all) =>
      all.some((run) => run.pid === survivor.pid),
    );
    const firstBySurvivor = after.find((run) => run.pid === survivor.pid);
    expect(firstBySurvivor).toBeDefined();
    // Two intervals by design; one more second for a loaded CI machine.
    expect((firstBySurvivor!.at as number) - killedAt).toBeLessThanOrEqual(2 * INTERVAL * 1000 + 1000);
  });
});

describeWithRedis(
  "/health follows the layer",
  ({ server }) => {
    let app: ServerProcess;
    let redis: RedisProcess;

    beforeAll(async () => {
      redis = server()!;
      app = await startServer("bun", {
        CHANNEL_LAYER: "redis",
        REDIS_URL: redis.url,
        REDIS_PREFIX: "health",
      });
    }, 30_000);
    afterAll(() => app?.kill());

    const health = async () => {
      const response = await fetch(new URL("/health", app.url));
      return { status: response.status, body: await response.json() };
    };
    const eventually = async (status: number) => {
      for (let i = 0; i < 100; i++) {
        const now = await health();
        if (now.status === status) return now;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      return health();
    };

    it("answers 200 while Redis is up, 503 while it is down, and 200 once it is back", async () => {
      expect(await health()).toEqual({ status: 200, body: { status: "ok", layer: "up" } });
      await redis.kill();
      expect(await eventually(503)).toEqual({ status: 503, body: { status: "unavailable", layer: "down" } });
      await redis.restart();
      expect(await eventually(200)).toEqual({ status: 200, body: { status: "ok", layer: "up" } });
    });
  },
  { own: true },
);

describe("shutdown and background work", () => {
  it("finishes the job in hand on SIGTERM, takes no new one, and exits 0", async () => {
    const server = await startServer("bun");
    try {
      for (const id of [0, 1, 2]) {
        const response = await fetch(new URL("/api/probe-jobs", server.url), {
          method: "POST",
          body: JSON.stringify({ id, ms: 400 }),
        });
        expect(response.status).toBe(202);
      }
      // Job 0 is in hand (400 ms), jobs 1 and 2 wait on the channel.
      expect(await server.stop("SIGTERM")).toBe(0);
      const output = server.output();
      expect(output).toContain("probe job 0 done");
      expect(output).not.toContain("probe job 1 done");
      expect(output.indexOf("probe job 0 done")).toBeLessThan(output.indexOf("stopped"));
    } finally {
      server.kill();
    }
  }, 30_000);
});

describe("/metrics access", () => {
  it("is readable from this machine without a token, and needs the token when METRICS_TOKEN is set", async () => {
    const open = await startServer("bun");
    const guarded = await startServer("bun", { METRICS_TOKEN: "metrics-token-0123456789" });
    try {
      const local = await fetch(new URL("/metrics", open.url));
      expect(local.status).toBe(200);
      expect(local.headers.get("content-type")).toContain("text/plain; version=0.0.4");
      const text = await local.text();
      expect(text).toContain('hono_channels_task_runs_total{task="live-tick"} 0');
      expect(text).toContain('hono_channels_worker_backlog{channel="reports"} 0');
      // Forwarded by a proxy on this machine: not this machine's own request.
      const proxied = await fetch(new URL("/metrics", open.url), {
        headers: { "X-Forwarded-For": "203.0.113.9" },
      });
      expect(proxied.status).toBe(403);
      expect((await fetch(new URL("/metrics", guarded.url))).status).toBe(401);
      const wrong = { headers: { Authorization: "Bearer not-the-token-0000000" } };
      expect((await fetch(new URL("/metrics", guarded.url), wrong)).status).toBe(401);
      const right = { headers: { Authorization: "Bearer metrics-token-0123456789" } };
      expect((await fetch(new URL("/metrics", guarded.url), right)).status).toBe(200);
    } finally {
      open.kill();
      guarded.kill();
    }
  }, 30_000);
});
