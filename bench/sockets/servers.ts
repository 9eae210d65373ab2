/**
 * The servers the socket benchmark runs, and how to start one. Every server runs pinned to core 0
 * (when there are two cores and taskset), with `_gc.ts` preloaded, and prints `listening on <port>`.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join, resolve } from "node:path";

export type RuntimeName = "bun" | "deno" | "node";
export type Scenario = "connect" | "echo" | "fanout" | "rooms" | "burst" | "burst4x" | "http" | "shutdown";
export type Kind = "project" | "redis" | "before" | "baseline" | "hono" | "socketio" | "socketio-redis";

/** Every scenario that speaks WebSocket, in the order a server runs them. */
const SOCKETS: Scenario[] = ["connect", "echo", "fanout", "rooms", "burst", "burst4x"];

export interface ServerSpec {
  kind: Kind;
  /** Column heading. */
  label: string;
  /** What the load generator speaks to it. */
  protocol: "channels" | "socketio";
  /** Whether it needs the private Redis (`REDIS_URL`). */
  redis: boolean;
  /** The scenarios it runs on `runtime`, none if it does not run there. */
  scenarios(runtime: RuntimeName): Scenario[];
  /** Its entry file. */
  entry(root: string, beforeDir: string | null): string;
}

const here = import.meta.dir;
const main = (dir: string) => join(dir, "src", "main.ts");
const only = (runtimes: RuntimeName[], list: Scenario[]) => (runtime: RuntimeName) =>
  runtimes.includes(runtime) ? list : [];

export const SPECS: ServerSpec[] = [
  {
    kind: "project",
    label: "this project (memory)",
    protocol: "channels",
    redis: false,
    scenarios: () => [...SOCKETS, "http", "shutdown"],
    entry: main,
  },
  {
    // echo, connect and the bursts' single-process fan-out do not touch the layer much: the
    // figures that change with Redis are a group message's trip (fanout, rooms) and shutdown.
    kind: "redis",
    label: "this project (Redis)",
    protocol: "channels",
    redis: true,
    scenarios: () => ["fanout", "rooms", "shutdown"],
    entry: main,
  },
  {
    kind: "before",
    label: "before",
    protocol: "channels",
    redis: false,
    scenarios: () => [...SOCKETS, "http", "shutdown"],
    entry: (_root, beforeDir) => main(beforeDir as string),
  },
  {
    kind: "baseline",
    label: "hand-written",
    protocol: "channels",
    redis: false,
    scenarios: () => SOCKETS,
    entry: (_root) => "", // per runtime, see serverCommand
  },
  {
    // Bun: Hono's own WebSocket helper with a room map. Deno and Node: HTTP only (no WebSocket
    // helper without another package on Node; Deno's raw baseline is already that room map).
    kind: "hono",
    label: "bare Hono",
    protocol: "channels",
    redis: false,
    scenarios: (runtime) =>
      runtime === "bun" ? ["connect", "echo", "fanout", "rooms", "burst", "http"] : ["http"],
    entry: () => join(here, "baselines", "hono.ts"),
  },
  {
    kind: "socketio",
    label: "Socket.IO",
    protocol: "socketio",
    redis: false,
    scenarios: only(["node"], ["connect", "echo", "fanout", "rooms"]),
    entry: () => join(here, "baselines", "socketio.ts"),
  },
  {
    kind: "socketio-redis",
    label: "Socket.IO + redis-adapter",
    protocol: "socketio",
    redis: true,
    scenarios: only(["node"], ["fanout", "rooms"]),
    entry: () => join(here, "baselines", "socketio.ts"),
  },
];

export const specOf = (kind: Kind) => SPECS.find((spec) => spec.kind === kind)!;

/** Server on core 0, load generator on core 1, when there are two cores and taskset to say so. */
export const pinned = availableParallelism() >= 2 && Bun.which("taskset") !== null;
export const pin = (core: number, command: string[]) =>
  pinned ? ["taskset", "-c", String(core), ...command] : command;

/** The command that starts `spec` on `runtime`, and the folder it runs in. */
function serverCommand(spec: ServerSpec, runtime: RuntimeName, root: string, beforeDir: string | null) {
  const dir = spec.kind === "before" ? (beforeDir as string) : root;
  const entry =
    spec.kind === "baseline" ? join(here, "baselines", `${runtime}.ts`) : spec.entry(root, beforeDir);
  const gc = join(here, "_gc.ts");
  const tsx = join(root, "node_modules", "tsx", "dist", "esm", "index.mjs");
  const command = {
    bun: ["bun", "--preload", gc, entry],
    deno: [
      "deno",
      "run",
      "-A",
      "--v8-flags=--expose-gc",
      `--preload=${gc}`,
      `--config=${join(dir, "deno.json")}`,
      entry,
    ],
    node: ["node", "--expose-gc", "--import", tsx, "--import", gc, entry],
  }[runtime];
  return { command, cwd: resolve(dir) };
}

/** What the server runs with: the project's settings for the benchmark. */
export interface ServerEnv {
  redisUrl: string | null;
  shutdownTimeoutMs: number;
}

/** Starts a server; `ready` resolves with its port once it printed that it listens. */
export function startServer(
  spec: ServerSpec,
  runtime: RuntimeName,
  root: string,
  beforeDir: string | null,
  settings: ServerEnv,
) {
  const { command, cwd } = serverCommand(spec, runtime, root, beforeDir);
  const [file, ...args] = pin(0, command);
  const env: Record<string, string> = {
    ...process.env,
    PORT: "0",
    HOST: "127.0.0.1",
    LOG_LEVEL: "warn",
    CHANNEL_LAYER: spec.redis ? "redis" : "memory",
    // Rooms puts 200 messages in flight per room: past the default capacity (100) a member would miss some.
    CHANNEL_CAPACITY: "1000",
    SHUTDOWN_TIMEOUT_MS: String(settings.shutdownTimeoutMs),
  } as Record<string, string>;
  // Never the environment's Redis: only the private one, and only for the servers that use it.
  delete env.REDIS_URL;
  if (spec.redis) {
    if (!settings.redisUrl) throw new Error(`${spec.kind} needs the private Redis`);
    env.REDIS_URL = settings.redisUrl;
  }
  const child = spawn(file!, args, { cwd, stdio: ["ignore", "pipe", "inherit"], env });
  let exitCode: number | null = null;
  const exited = new Promise<number | null>((done) =>
    child.once("exit", (code, signal) => {
      exitCode = code ?? (signal ? -1 : null);
      done(exitCode);
    }),
  );
  const ready = new Promise<number>((resolveReady, reject) => {
    let output = "";
    const timer = setTimeout(
      () => reject(new Error(`${spec.kind} on ${runtime} did not start: ${output}`)),
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
    void exited.then((code) => reject(new Error(`${spec.kind} on ${runtime} exited (${code}): ${output}`)));
  });
  ready.catch(() => {}); // reported by whoever awaits it
  return {
    ready,
    pid: child.pid ?? 0,
    exited,
    /** Resident memory of the server process, in MB. */
    rss: () => Number(readFileSync(`/proc/${child.pid}/status`, "utf8").match(/VmRSS:\s+(\d+)/)?.[1]) / 1024,
    /** Kills it (if still running) and waits until it is gone. */
    stop: async () => {
      if (exitCode === null && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
    },
  };
}
