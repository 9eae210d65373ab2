/**
 * Shared by the bench scripts: a private redis-server, a clock every process can read, a member
 * consumer that reports when the last local member handled a message, statistics and tables.
 * Not a test helper: nothing here imports bun:test.
 */
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { loadavg } from "node:os";
import type { Subprocess } from "bun";
import { type ChannelLayer, Consumer, type Logger, WebsocketCommunicator } from "../src/index.ts";

/** Milliseconds on a clock shared by the processes of one machine (wall-clock origin + monotonic offset). */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

/** Drops every log line: a benchmark must not print per message. */
export const quietLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** A redis-server of our own on a free port, never the shared one on 6379; `stop()` kills it. */
export async function startRedis(): Promise<{ url: string; version: string; stop(): Promise<void> }> {
  const port = await new Promise<number>((resolve, reject) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
  const child: Subprocess = Bun.spawn(
    ["redis-server", "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    { stdout: "ignore", stderr: "inherit" },
  );
  const kill = () => child.kill("SIGKILL");
  const interrupted = () => {
    kill();
    process.exit(130);
  };
  process.once("exit", kill); // also if the bench crashes or is interrupted
  process.once("SIGINT", interrupted).once("SIGTERM", interrupted);
  for (let tries = 0; ; tries++) {
    try {
      const socket = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } });
      socket.end();
      break;
    } catch (error) {
      if (tries > 200) throw error;
      await Bun.sleep(25);
    }
  }
  const version = Bun.spawnSync(["redis-server", "--version"])
    .stdout.toString()
    .match(/v=(\S+)/)?.[1];
  return {
    url: `redis://127.0.0.1:${port}`,
    version: version ?? "?",
    async stop() {
      process.off("exit", kill).off("SIGINT", interrupted).off("SIGTERM", interrupted);
      child.kill("SIGTERM");
      await child.exited;
    },
  };
}

/**
 * Counts arrivals of each `bench.ping` across this process's members; when the `expected`-th local
 * member has run its handler, calls `onLast(seq, time)` with the time on the shared clock.
 */
export const arrivals = {
  expected: 0,
  counts: new Map<number, number>(),
  onLast: (_seq: number, _time: number): void => {},
  record(seq: number): void {
    const count = (this.counts.get(seq) ?? 0) + 1;
    if (count < this.expected) {
      this.counts.set(seq, count);
      return;
    }
    this.counts.delete(seq);
    this.onLast(seq, now());
  },
};

/** A real consumer: joins the group named in its scope, and its `bench.ping` handler records arrival. */
export class Member extends Consumer {
  override async connect(): Promise<void> {
    await this.groupAdd(this.scope.params.group!);
    await this.accept();
  }

  benchPing(message: { seq: number }): void {
    arrivals.record(message.seq);
  }
}

/** `count` connected `Member`s of `group` on `layer`, connected one after the other. */
export async function host(layer: ChannelLayer, group: string, count: number) {
  const members: WebsocketCommunicator[] = [];
  for (let i = 0; i < count; i++) {
    const member = new WebsocketCommunicator(Member, { params: { group }, layer, logger: quietLogger });
    if (!(await member.connect(5000)).accepted) throw new Error("a member refused to connect");
    members.push(member);
  }
  return members;
}

/** Disconnects members: their groups are left and their channels die. */
export async function release(members: WebsocketCommunicator[]): Promise<void> {
  for (const member of members) await member.disconnect(1000, 5000);
}

/** Median and 95th percentile (nearest rank) of samples. */
export function summarize(samples: number[]): { median: number; p95: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
  return { median: rank(0.5), p95: rank(0.95) };
}

/** A number with thousands separators and `digits` decimals. */
export function fmt(value: number, digits = 0): string {
  return value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** A markdown table, padded the way `biome format` pads one; numeric columns are right-aligned. */
export function table(headers: string[], rows: string[][]): string {
  const right = headers.map((_, i) =>
    rows.every((row) => /^([\d,.×x~≈ -]+(ms|µs|\/s)?|–)$/.test(row[i] ?? "")),
  );
  const widths = headers.map((header, i) => Math.max(header.length, ...rows.map((row) => row[i]!.length)));
  const pad = (cell: string, i: number) => (right[i] ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!));
  const line = (cells: string[]) => `| ${cells.map(pad).join(" | ")} |`;
  const rule = widths.map((width, i) => (right[i] ? `${"-".repeat(width - 1)}:` : "-".repeat(width)));
  return [line(headers), `| ${rule.join(" | ")} |`, ...rows.map(line)].join("\n");
}

/** The machine and versions, for the line above every table. */
export function machine(redisVersion?: string): string {
  const cpu = readFileSync("/proc/cpuinfo", "utf8").match(/model name\s*:\s*(.+)/)?.[1] ?? "unknown CPU";
  const ioredis = (
    JSON.parse(readFileSync(new URL("../node_modules/ioredis/package.json", import.meta.url), "utf8")) as {
      version: string;
    }
  ).version;
  const cores = navigator.hardwareConcurrency;
  const redis = redisVersion ? `, redis-server ${redisVersion} (loopback, own instance)` : "";
  const load = loadavg()
    .map((value) => value.toFixed(2))
    .join(" ");
  return `${cores} cores (${cpu}), ${process.platform}, Bun ${Bun.version}, ioredis ${ioredis}${redis}; load average at start ${load}`;
}
