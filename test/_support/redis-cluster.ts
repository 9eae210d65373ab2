/**
 * A private Redis Cluster for tests: three primaries, no replicas, on free ports (client and bus
 * port both picked, so nothing collides with the Redis on 6379 or another run), made with
 * `redis-cli --cluster create`. A shard can be killed (SIGKILL, like a crash) and restarted: it
 * comes back with its node id and slots (its nodes.conf is kept) but empty.
 *
 * The servers run with `cluster-require-full-coverage no`, as the README asks of a production
 * cluster: without it, one dead shard stops every other shard too. `cluster-node-timeout` is short
 * so that a test sees the cluster notice a dead shard within a couple of seconds.
 * Without redis-server the suites are skipped with one line, except under CI=true, where they fail.
 */
import { afterAll, beforeAll, describe, it } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import Redis from "ioredis";
import { freePort, hasRedisServer } from "./redis.ts";

/** One primary of the cluster. */
export interface ClusterShard {
  port: number;
  /** Kills it (SIGKILL) and waits for it to exit. */
  kill(): Promise<void>;
  /** Starts it again on the same ports, with its node id and slots, empty; waits until it answers. */
  restart(): Promise<void>;
  /** Freezes it (SIGSTOP): connections stay open, nothing is answered. */
  pause(): void;
  /** Thaws it (SIGCONT). */
  resume(): void;
}

/** A running private cluster. */
export interface RedisClusterProcess {
  /** `host:port` seeds, as REDIS_CLUSTER_NODES takes them (comma-separated). */
  nodes: string[];
  /** The primaries, as created (after a failover, `shardOf` may name `replica` instead). */
  shards: ClusterShard[];
  /** With `{ replica: true }`: a replica of the last primary, to fail over to. */
  replica: ClusterShard | null;
  /** Runs redis-cli against one shard (for slot moves and checks); resolves with its output. */
  cli(port: number, ...args: string[]): Promise<string>;
  /** The shard that owns the slot of `key` (with a hash tag, the tag's slot), and that slot. */
  shardOf(key: string): Promise<{ shard: ClusterShard; slot: number }>;
  /** Moves the slot of `key`, with its keys, to `to` (IMPORTING / MIGRATING / MIGRATE / SETSLOT NODE). */
  moveSlotOf(key: string, to: ClusterShard): Promise<void>;
  /** Waits until every live shard reports `cluster_state:ok`. */
  waitHealthy(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** Starts a 3-primary cluster on free ports (with `replica`, plus a replica of the last primary) and waits until it serves every slot. */
export async function startRedisCluster(options: { replica?: boolean } = {}): Promise<RedisClusterProcess> {
  const dir = mkdtempSync(join(tmpdir(), "hc-cluster-"));
  const shards: Array<ClusterShard & { child: Subprocess | null }> = [];
  for (let i = 0; i < (options.replica ? 4 : 3); i++) {
    const port = await freePort();
    const busPort = await freePort();
    const shard = {
      port,
      child: null as Subprocess | null,
      async kill() {
        shard.child?.kill("SIGCONT"); // a paused shard dies as well
        shard.child?.kill("SIGKILL");
        await shard.child?.exited;
        shard.child = null;
      },
      async restart() {
        shard.child = launch(dir, port, busPort);
        await waitForAnswer(port);
      },
      pause: () => void shard.child?.kill("SIGSTOP"),
      resume: () => void shard.child?.kill("SIGCONT"),
    };
    shards.push(shard);
  }
  for (const shard of shards) await shard.restart();
  const cli = async (port: number, ...args: string[]) => {
    const child = Bun.spawn(["redis-cli", "-h", "127.0.0.1", "-p", String(port), ...args], {
      stdout: "pipe",
      stderr: "pipe",
      stdin: "ignore",
    });
    const [out, err] = await Promise.all([
      new Response(child.stdout).text(),
      new Response(child.stderr).text(),
    ]);
    if ((await child.exited) !== 0) throw new Error(`redis-cli ${args.join(" ")}: ${err || out}`);
    return out;
  };
  const replica = (options.replica && shards.pop()) || null;
  const nodes = shards.map((shard) => `127.0.0.1:${shard.port}`);
  await cli(
    (shards[0] as ClusterShard).port,
    "--cluster",
    "create",
    ...nodes,
    "--cluster-replicas",
    "0",
    "--cluster-yes",
  );
  const waitHealthy = async (timeoutMs = 15_000) => {
    const deadline = Date.now() + timeoutMs;
    for (const shard of shards) {
      if (!shard.child) continue;
      while (!(await cli(shard.port, "cluster", "info").catch(() => "")).includes("cluster_state:ok")) {
        if (Date.now() > deadline) throw new Error(`cluster shard ${shard.port} not ok in ${timeoutMs} ms`);
        await Bun.sleep(50);
      }
    }
  };
  await waitHealthy();
  if (replica) {
    const primary = shards.at(-1) as ClusterShard;
    const id = String(await command(primary.port, "cluster", "myid"));
    await cli(
      primary.port,
      "--cluster",
      "add-node",
      `127.0.0.1:${replica.port}`,
      `127.0.0.1:${primary.port}`,
    );
    // Joined as an empty primary; make it this primary's replica once it knows the primary.
    for (;;) {
      const replicated = await command(replica.port, "cluster", "replicate", id).then(
        () => true,
        () => false,
      );
      if (replicated) break;
      await Bun.sleep(50);
    }
    while (!String(await command(replica.port, "info", "replication")).includes("master_link_status:up")) {
      await Bun.sleep(50);
    }
  }
  const all = replica ? [...shards, replica] : shards;
  const live = () => all.find((shard) => shard.child) as ClusterShard;
  const shardOf = async (key: string) => {
    const slot = Number((await cli(live().port, "cluster", "keyslot", key)).trim());
    const ranges = (await command(live().port, "cluster", "slots")) as Array<
      [number, number, [string, number]]
    >;
    const range = ranges.find(([first, last]) => first <= slot && slot <= last);
    const shard = all.find((candidate) => candidate.port === range?.[2][1]);
    if (!shard) throw new Error(`no shard owns slot ${slot}`);
    return { shard, slot };
  };
  const moveSlotOf = async (key: string, to: ClusterShard) => {
    const { shard: from, slot } = await shardOf(key);
    if (from === to) return;
    const ids = new Map<ClusterShard, string>();
    for (const shard of shards) ids.set(shard, String(await command(shard.port, "cluster", "myid")));
    await command(to.port, "cluster", "setslot", slot, "importing", ids.get(from) as string);
    await command(from.port, "cluster", "setslot", slot, "migrating", ids.get(to) as string);
    for (;;) {
      const keys = (await command(from.port, "cluster", "getkeysinslot", slot, 100)) as string[];
      if (keys.length === 0) break;
      await command(from.port, "migrate", "127.0.0.1", to.port, "", 0, 5000, "keys", ...keys);
    }
    // The new owner first, then the old one (which tells its subscribers), then the rest.
    for (const shard of [to, from, ...shards.filter((other) => other !== to && other !== from)]) {
      await command(shard.port, "cluster", "setslot", slot, "node", ids.get(to) as string);
    }
  };
  return {
    nodes,
    shards,
    replica,
    cli,
    shardOf,
    moveSlotOf,
    waitHealthy,
    async stop() {
      for (const shard of all) await shard.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** One command on one shard, through a short-lived direct connection. */
async function command(port: number, ...args: Array<string | number>): Promise<unknown> {
  const redis = new Redis({ host: "127.0.0.1", port, lazyConnect: true, maxRetriesPerRequest: 0 });
  redis.on("error", () => {});
  try {
    return await redis.call(String(args[0]), ...args.slice(1));
  } finally {
    redis.disconnect();
  }
}

function launch(dir: string, port: number, busPort: number): Subprocess {
  return Bun.spawn(
    [
      "redis-server",
      "--port",
      String(port),
      "--cluster-port",
      String(busPort),
      "--bind",
      "127.0.0.1",
      "--dir",
      dir,
      "--cluster-enabled",
      "yes",
      "--cluster-config-file",
      `nodes-${port}.conf`,
      "--cluster-node-timeout",
      "1500",
      "--cluster-require-full-coverage",
      "no",
      "--save",
      "",
      "--appendonly",
      "no",
    ],
    { stdout: "pipe", stderr: "pipe" },
  );
}

async function waitForAnswer(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const socket = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } });
      socket.end();
      return;
    } catch {
      await Bun.sleep(50);
    }
  }
  throw new Error(`cluster shard on port ${port} did not start within ${timeoutMs} ms`);
}

/**
 * `describe` for suites that need a cluster: one private cluster for the whole suite, started in
 * `beforeAll` and stopped in `afterAll`; `cluster()` gives it to the tests.
 */
export function describeWithRedisCluster(
  name: string,
  suite: (context: { cluster: () => RedisClusterProcess }) => void,
  options: { replica?: boolean } = {},
): void {
  if (!hasRedisServer() || Bun.which("redis-cli") === null) {
    if (process.env.CI) {
      describe(name, () => {
        it("needs redis-server and redis-cli (CI=true: a missing Redis fails)", () => {
          throw new Error("redis-server is not installed; .ci/run installs it with apt-get");
        });
      });
    } else {
      console.warn(`skipping ${name}: no redis-server or redis-cli on PATH (apt-get install redis-server)`);
      describe.skip(name, () => suite({ cluster: () => ({}) as RedisClusterProcess }));
    }
    return;
  }
  let running: RedisClusterProcess | null = null;
  describe(name, () => {
    beforeAll(async () => {
      running = await startRedisCluster(options);
    }, 30_000);
    afterAll(async () => {
      await running?.stop();
    });
    suite({
      cluster: () => {
        if (!running) throw new Error("the cluster did not start");
        return running;
      },
    });
  });
}
