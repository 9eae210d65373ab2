/**
 * Socket-level benchmark: this project (src/main.ts with the memory layer, and with the Redis layer
 * on a private redis-server) against hand-written servers on the same runtime (raw Bun.serve / raw
 * Deno.serve / Node http + ws, bare Hono, Socket.IO with and without its Redis adapter), on Bun,
 * Deno and Node, with one load generator (load.ts, a Bun process of WebSocket clients). Rounds
 * interleave the servers, so a machine that gets busier mid-run slows both sides of a ratio alike.
 * Prints markdown tables, writes JSON and an SVG chart (chart.ts) next to it.
 *
 *   bun bench/sockets/run.ts [--runtime bun,deno,node] [--scenario echo,fanout,...]
 *                            [--server project,redis,baseline,hono,socketio,socketio-redis]
 *                            [--rounds 2] [--before <dir>] [--out bench/results/sockets.json]
 *
 * `--before <dir>` adds a server per runtime: src/main.ts of another checkout (for example
 * `git archive <commit> | tar -x -C <dir>` with node_modules linked in), for before/after ratios.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { dirname, join, resolve } from "node:path";
import { Redis } from "ioredis";
import { startRedis } from "../_support.ts";
import { chart } from "./chart.ts";
import type { LoadResult } from "./load.ts";
import { type Idle, Results, type Sample } from "./report.ts";
import { type Kind, pin, pinned, type RuntimeName, type Scenario, SPECS, startServer } from "./servers.ts";
import { targets, targetTable } from "./targets.ts";

const here = import.meta.dir;
const root = resolve(here, "..", "..");

function flag(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? (process.argv[at + 1] ?? fallback) : fallback;
}

// Short, so the shutdown scenario is quick; its target is this + 1 s.
const SHUTDOWN_TIMEOUT_MS = 2000;
const runtimes = flag("runtime", "bun,deno,node").split(",") as RuntimeName[];
// connect first: its memory figure wants a server with little garbage yet. shutdown ends the
// server: last.
const order: Scenario[] = ["connect", "echo", "fanout", "rooms", "burst", "burst4x", "http", "shutdown"];
const chosen = flag("scenario", order.join(",")).split(",");
const scenarios = order.filter((s) => chosen.includes(s));
const rounds = Number(flag("rounds", "2"));
const beforeDir = process.argv.includes("--before") ? resolve(flag("before", "")) : null;
const kinds = flag("server", "project,redis,before,baseline,hono,socketio,socketio-redis")
  .split(",")
  .filter((kind) => kind !== "before" || beforeDir) as Kind[];
const specs = SPECS.filter((spec) => kinds.includes(spec.kind));
const out = resolve(flag("out", join(root, "bench", "results", "sockets.json")));

/** What `spec` runs on `runtime` in this run: its scenarios, those asked for. */
const planOf = (spec: (typeof specs)[number], runtime: RuntimeName) =>
  spec.scenarios(runtime).filter((s) => scenarios.includes(s));

// The private Redis, only when a server of this run needs it; stopped at the end, on Ctrl-C or a crash.
const needsRedis = specs.some((spec) => spec.redis && runtimes.some((r) => planOf(spec, r).length));
const redis = needsRedis ? await startRedis() : null;

// The server running now: killed if the run is interrupted or crashes, so none outlives it.
let current: ReturnType<typeof startServer> | null = null;
process.once("exit", () => {
  try {
    if (current) process.kill(current.pid, "SIGKILL");
  } catch {} // already gone
});
// startRedis handles these when there is a Redis; otherwise exit through the handler above.
if (!redis) process.once("SIGINT", () => process.exit(130)).once("SIGTERM", () => process.exit(143));

/** Runs one scenario in a load-generator process of its own. */
async function load(scenario: Scenario, port: number, pid: number, protocol: string): Promise<LoadResult> {
  const child = Bun.spawn(
    pin(1, ["bun", join(here, "load.ts"), scenario, `ws://127.0.0.1:${port}`, String(pid), protocol]),
    { stdout: "pipe", stderr: "inherit" },
  );
  const text = await new Response(child.stdout).text();
  const code = await child.exited;
  if (code !== 0) throw new Error(`load generator failed on ${scenario} (exit ${code})`);
  return JSON.parse(text.trim().split("\n").pop()!) as LoadResult;
}

const samples: Sample[] = [];
const idle: Idle[] = [];
const load0 = loadavg();
const started = Date.now();

for (let round = 1; round <= rounds; round++) {
  for (const runtime of runtimes) {
    for (const spec of specs) {
      const plan = planOf(spec, runtime);
      if (plan.length === 0) continue;
      // What the previous server left in Redis (group members of killed processes) is not this one's.
      if (spec.redis && redis) {
        const client = new Redis(redis.url);
        await client.flushall();
        client.disconnect();
      }
      const server = startServer(spec, runtime, root, beforeDir, {
        redisUrl: redis?.url ?? null,
        shutdownTimeoutMs: SHUTDOWN_TIMEOUT_MS,
      });
      current = server;
      const port = await server.ready;
      await Bun.sleep(300);
      idle.push({ runtime, kind: spec.kind, round, rssMb: server.rss() });
      for (const scenario of plan) {
        const result = await load(scenario, port, server.pid, spec.protocol);
        const sample: Sample = { ...result, runtime, kind: spec.kind, round };
        if (scenario === "shutdown") sample.exitCode = await server.exited;
        samples.push(sample);
        const fields = [
          Number.isFinite(result.rate) ? `${Math.round(result.rate)}/s` : null,
          result.p99 === undefined ? null : `p99 ${result.p99.toFixed(2)} ms`,
          result.cpuUs === undefined ? null : `${result.cpuUs.toFixed(2)} µs CPU each`,
          result.kbPerConnection === undefined ? null : `${result.kbPerConnection.toFixed(1)} KB/connection`,
          result.exitMs === undefined
            ? null
            : `exit after ${Math.round(result.exitMs)} ms (code ${sample.exitCode})`,
          result.uncleanCloses ? `${result.uncleanCloses} unclean closes` : null,
          result.missing ? `${result.missing} MISSING` : null,
        ];
        console.error(
          `round ${round}/${rounds} ${runtime} ${spec.kind} ${scenario}: ${fields.filter(Boolean).join(", ")}`,
        );
      }
      await server.stop();
      current = null;
    }
  }
}
await redis?.stop();

const labels = Object.fromEntries(SPECS.map((spec) => [spec.kind, spec.label])) as Record<Kind, string>;
const results = new Results(samples, idle, labels);
const { markdown, summary } = results.table(runtimes, kinds);
const goals = targets(SHUTDOWN_TIMEOUT_MS);
const load1 = loadavg();
/** Which runs lost deliveries (or got non-200 answers), if any. */
function missingNote(): string {
  const lost = samples.filter((s) => s.missing);
  if (lost.length === 0) return "every delivery arrived";
  const list = lost.map((s) => `${s.runtime} ${s.kind} ${s.scenario} round ${s.round}: ${s.missing}`);
  return `MISSING deliveries (or failed requests): ${list.join("; ")}`;
}
const notes = [
  `Median of ${rounds} interleaved rounds (min-max). ${pinned ? "Server pinned to core 0, load generator to core 1 (taskset)." : "Not pinned (needs taskset and two cores)."}`,
  `Load average ${load0.map((l) => l.toFixed(2)).join(" ")} at start, ${load1.map((l) => l.toFixed(2)).join(" ")} at end; ${Math.round((Date.now() - started) / 1000)} s.`,
  `Bun ${Bun.version}${redis ? `, redis-server ${redis.version}` : ""}; SHUTDOWN_TIMEOUT_MS=${SHUTDOWN_TIMEOUT_MS}; ${missingNote()}.`,
];
console.log(`${markdown}\n\n${targetTable(results, goals)}\n\n${notes.join("\n")}`);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(
  out,
  JSON.stringify(
    {
      date: new Date().toISOString(),
      pinned,
      shutdownTimeoutMs: SHUTDOWN_TIMEOUT_MS,
      loadavg: { start: load0, end: load1 },
      summary,
      samples,
      idle,
    },
    null,
    2,
  ),
);
const svg = out.replace(/\.json$/, ".svg");
writeFileSync(svg, chart(results, runtimes, kinds, goals, notes[1]!));
// Formatted as Biome would, so a run leaves `npm run check` clean.
const biome = join(root, "node_modules", ".bin", "biome");
Bun.spawnSync([biome, "format", "--write", out], { stdout: "ignore", stderr: "ignore" });
console.error(`wrote ${out} and ${svg}`);
