/**
 * Socket-level benchmark: this project (src/main.ts, memory layer, the shipped consumers) against a
 * hand-written server on the same runtime, on Bun, Deno and Node, with one load generator
 * (load.ts, a Bun process of WebSocket clients). Rounds interleave the servers, so a machine that
 * gets busier mid-run slows both sides of a ratio alike. Prints a markdown table, writes JSON.
 *
 *   bun bench/sockets/run.ts [--runtime bun,deno,node] [--scenario echo,fanout,rooms,connect,burst]
 *                            [--rounds 3] [--before <dir>] [--out bench/results/sockets.json]
 *
 * `--before <dir>` adds a third server per runtime: src/main.ts of another checkout (for example
 * `git archive <commit> | tar -x -C <dir>` with node_modules linked in), for before/after ratios.
 */
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { availableParallelism, loadavg } from "node:os";
import { dirname, join, resolve } from "node:path";
import type { LoadResult } from "./load.ts";

type RuntimeName = "bun" | "deno" | "node";
type Kind = "project" | "baseline" | "before";
type Scenario = "echo" | "fanout" | "rooms" | "connect" | "burst";

const here = import.meta.dir;
const root = resolve(here, "..", "..");

function flag(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? (process.argv[at + 1] ?? fallback) : fallback;
}

const runtimes = flag("runtime", "bun,deno,node").split(",") as RuntimeName[];
// connect first: its memory figure needs a server with no garbage yet for a collection to free
// mid-measurement.
const scenarios = flag("scenario", "connect,echo,fanout,rooms,burst").split(",") as Scenario[];
const rounds = Number(flag("rounds", "3"));
const beforeDir = process.argv.includes("--before") ? resolve(flag("before", "")) : null;
const out = resolve(flag("out", join(root, "bench", "results", "sockets.json")));

// Server on core 0, load generator on core 1, when there are two cores and taskset to say so.
const pinned = availableParallelism() >= 2 && Bun.which("taskset") !== null;
const pin = (core: number, command: string[]) =>
  pinned ? ["taskset", "-c", String(core), ...command] : command;

/** The command that starts a server of `kind` on `runtime`, and the folder it runs in. */
function serverCommand(kind: Kind, runtime: RuntimeName): { command: string[]; cwd: string } {
  const dir = kind === "before" ? (beforeDir as string) : root;
  const entry = kind === "baseline" ? join(here, "baselines", `${runtime}.ts`) : join(dir, "src", "main.ts");
  const tsx = join(root, "node_modules", "tsx", "dist", "esm", "index.mjs");
  const command = {
    bun: ["bun", entry],
    deno: ["deno", "run", "-A", `--config=${join(dir, "deno.json")}`, entry],
    node: ["node", "--import", tsx, entry],
  }[runtime];
  return { command, cwd: dir };
}

/** Starts a server and resolves with its port and pid once it printed that it listens. */
function startServer(kind: Kind, runtime: RuntimeName) {
  const { command, cwd } = serverCommand(kind, runtime);
  const [file, ...args] = pin(0, command);
  const child = spawn(file!, args, {
    cwd,
    stdio: ["ignore", "pipe", "inherit"],
    // Rooms puts 200 messages in flight per room: past the default capacity (100) a member would miss some.
    env: {
      ...process.env,
      PORT: "0",
      HOST: "127.0.0.1",
      LOG_LEVEL: "warn",
      CHANNEL_LAYER: "memory",
      CHANNEL_CAPACITY: "1000",
    },
  });
  const ready = new Promise<number>((resolveReady, reject) => {
    let output = "";
    const timer = setTimeout(
      () => reject(new Error(`${kind} on ${runtime} did not start: ${output}`)),
      20_000,
    );
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk;
      const port = output.match(/listening on \S*?(\d+)\s*$/m)?.[1];
      if (port) {
        clearTimeout(timer);
        resolveReady(Number(port));
      }
    });
    child.once("exit", (code) => reject(new Error(`${kind} on ${runtime} exited (${code}): ${output}`)));
  });
  return {
    ready,
    pid: child.pid ?? 0,
    /** Resident memory of the server process, in MB. */
    rss: () => Number(readFileSync(`/proc/${child.pid}/status`, "utf8").match(/VmRSS:\s+(\d+)/)?.[1]) / 1024,
    stop: () =>
      new Promise<void>((done) => {
        child.removeAllListeners("exit");
        child.once("exit", () => done());
        child.kill("SIGKILL");
      }),
  };
}

/** Runs one scenario in a load-generator process of its own. */
async function load(scenario: Scenario, port: number, pid: number): Promise<LoadResult> {
  const child = Bun.spawn(
    pin(1, ["bun", join(here, "load.ts"), scenario, `ws://127.0.0.1:${port}`, String(pid)]),
    {
      stdout: "pipe",
      stderr: "inherit",
    },
  );
  const text = await new Response(child.stdout).text();
  if ((await child.exited) !== 0) throw new Error(`load generator failed on ${scenario}`);
  return JSON.parse(text.trim().split("\n").pop()!) as LoadResult;
}

type Sample = LoadResult & { runtime: RuntimeName; kind: Kind; round: number };
const samples: Sample[] = [];
const idle: Array<{ runtime: RuntimeName; kind: Kind; round: number; rssMb: number }> = [];
const kinds: Kind[] = beforeDir ? ["project", "before", "baseline"] : ["project", "baseline"];
const load0 = loadavg();
const started = Date.now();

for (let round = 1; round <= rounds; round++) {
  for (const runtime of runtimes) {
    for (const kind of kinds) {
      const server = startServer(kind, runtime);
      const port = await server.ready;
      await Bun.sleep(300);
      idle.push({ runtime, kind, round, rssMb: server.rss() });
      for (const scenario of scenarios) {
        const result = await load(scenario, port, server.pid);
        samples.push({ ...result, runtime, kind, round });
        const p99 = result.p99 === undefined ? "" : `, p99 ${result.p99.toFixed(2)} ms`;
        const cpu = result.cpuUs === undefined ? "" : `, ${result.cpuUs.toFixed(2)} µs CPU each`;
        const missing = result.missing ? `, ${result.missing} MISSING` : "";
        console.error(
          `round ${round}/${rounds} ${runtime} ${kind} ${scenario}: ${Math.round(result.rate)}/s${p99}${cpu}${missing}`,
        );
      }
      await server.stop();
    }
  }
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
const stat = (values: number[]) => ({
  median: median(values),
  min: Math.min(...values),
  max: Math.max(...values),
});
const pick = (runtime: RuntimeName, kind: Kind, scenario: Scenario) =>
  samples.filter((s) => s.runtime === runtime && s.kind === kind && s.scenario === scenario);

const k = (n: number) => (n >= 10_000 ? `${Math.round(n / 1000)}k` : n.toFixed(n >= 100 ? 0 : 2));
const cell = (s: { median: number; min: number; max: number }) => `${k(s.median)} (${k(s.min)}-${k(s.max)})`;
const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`;

const header = ["runtime", "scenario", "this project", "hand-written", "project / hand-written"];
if (beforeDir) header.push("before", "project / before");
const lines = [`| ${header.join(" | ")} |`, `|${header.map(() => "---").join("|")}|`];
const summary: Record<string, unknown> = {};
for (const runtime of runtimes) {
  const rows: Array<[string, (s: Sample) => number]> = [];
  for (const scenario of scenarios) {
    const unit = scenario === "echo" ? "msg/s" : scenario === "connect" ? "handshakes/s" : "deliveries/s";
    rows.push([`${scenario} (${unit})`, (s) => (s.scenario === scenario ? s.rate : Number.NaN)]);
    if (scenario === "echo") rows.push(["echo p99 (ms, lower is better)", (s) => s.p99 ?? Number.NaN]);
    const each = scenario === "echo" ? "message" : scenario === "connect" ? "handshake" : "delivery";
    rows.push([`${scenario} server CPU (µs per ${each}, lower is better)`, (s) => s.cpuUs ?? Number.NaN]);
    if (scenario === "burst") {
      rows.push([
        "burst slowest /health meanwhile (ms, lower is better)",
        (s) => s.healthMaxMs ?? Number.NaN,
      ]);
      rows.push([
        "burst slowest round trip in another room (ms, lower is better)",
        (s) => s.otherRoomMaxMs ?? Number.NaN,
      ]);
    }
    if (scenario === "connect") {
      rows.push([
        "connect memory per open connection (KB, lower is better)",
        (s) => s.kbPerConnection ?? Number.NaN,
      ]);
    }
  }
  for (const [label, value] of rows) {
    const scenario = label.split(" ")[0] as Scenario;
    const of = (kind: Kind) => stat(pick(runtime, kind, scenario).map(value));
    const project = of("project");
    const baseline = of("baseline");
    const row = [runtime, label, cell(project), cell(baseline), ratio(project.median, baseline.median)];
    if (beforeDir) {
      const before = of("before");
      row.push(cell(before), ratio(project.median, before.median));
    }
    lines.push(`| ${row.join(" | ")} |`);
    summary[`${runtime} ${label}`] = { project, baseline, ...(beforeDir ? { before: of("before") } : {}) };
  }
  const rss = (kind: Kind) =>
    stat(idle.filter((i) => i.runtime === runtime && i.kind === kind).map((i) => i.rssMb));
  const row = [
    runtime,
    "idle RSS (MB)",
    cell(rss("project")),
    cell(rss("baseline")),
    ratio(rss("project").median, rss("baseline").median),
  ];
  if (beforeDir) row.push(cell(rss("before")), ratio(rss("project").median, rss("before").median));
  lines.push(`| ${row.join(" | ")} |`);
}

const load1 = loadavg();
const notes = [
  `Median of ${rounds} interleaved rounds (min-max). ${pinned ? "Server pinned to core 0, load generator to core 1 (taskset)." : "Not pinned (needs taskset and two cores)."}`,
  `Load average ${load0.map((l) => l.toFixed(2)).join(" ")} at start, ${load1.map((l) => l.toFixed(2)).join(" ")} at end; ${Math.round((Date.now() - started) / 1000)} s.`,
  `Bun ${Bun.version}; ${samples.some((s) => s.missing) ? "SOME DELIVERIES MISSING: see JSON" : "every delivery arrived"}.`,
];
console.log(`${lines.join("\n")}\n\n${notes.join("\n")}`);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(
  out,
  JSON.stringify(
    { date: new Date().toISOString(), pinned, loadavg: { start: load0, end: load1 }, summary, samples, idle },
    null,
    2,
  ),
);
// Formatted as Biome would, so a run leaves `npm run check` clean.
const biome = join(root, "node_modules", ".bin", "biome");
Bun.spawnSync([biome, "format", "--write", out], { stdout: "ignore", stderr: "ignore" });
console.error(`wrote ${out}`);
