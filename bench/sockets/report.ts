/**
 * Turns the samples of a run into the markdown the run prints: one table of every figure of every
 * server (median of the rounds, min-max, ratios of medians), and one of the targets.
 */
import type { LoadResult } from "./load.ts";
import type { Kind, RuntimeName, Scenario } from "./servers.ts";

export type Sample = LoadResult & {
  runtime: RuntimeName;
  kind: Kind;
  round: number;
  exitCode?: number | null;
};
export type Idle = { runtime: RuntimeName; kind: Kind; round: number; rssMb: number };
export type Stat = { median: number; min: number; max: number; n: number };

/** One line of the table: a figure a scenario yields, read from a sample. */
export interface Figure {
  scenario: Scenario;
  label: string;
  value(sample: Sample): number | undefined;
  /** For the rate figures the chart draws. */
  rate?: boolean;
}

const cpu = (scenario: Scenario, each: string): Figure => ({
  scenario,
  label: `${scenario} server CPU (µs per ${each}, lower is better)`,
  value: (s) => s.cpuUs,
});
const probes = (scenario: Scenario): Figure[] => [
  {
    scenario,
    label: `${scenario} deliveries that never came (of ${scenario === "burst" ? "500,000" : "2,000,000"})`,
    value: (s) => s.missing,
  },
  {
    scenario,
    label: `${scenario} slowest /health meanwhile (ms, lower is better)`,
    value: (s) => s.healthMaxMs,
  },
  {
    scenario,
    label: `${scenario} slowest round trip in another room (ms, lower is better)`,
    value: (s) => s.otherRoomMaxMs,
  },
];

export const FIGURES: Figure[] = [
  { scenario: "connect", label: "connect (handshakes/s)", value: (s) => s.rate, rate: true },
  cpu("connect", "handshake"),
  {
    scenario: "connect",
    label: "connect memory per open connection (KB, lower is better)",
    value: (s) => s.kbPerConnection,
  },
  { scenario: "echo", label: "echo (msg/s)", value: (s) => s.rate, rate: true },
  { scenario: "echo", label: "echo p99 (ms, lower is better)", value: (s) => s.p99 },
  cpu("echo", "message"),
  { scenario: "fanout", label: "fanout (deliveries/s)", value: (s) => s.rate, rate: true },
  cpu("fanout", "delivery"),
  { scenario: "rooms", label: "rooms (deliveries/s)", value: (s) => s.rate, rate: true },
  cpu("rooms", "delivery"),
  { scenario: "burst", label: "burst (deliveries/s)", value: (s) => s.rate, rate: true },
  cpu("burst", "delivery"),
  ...probes("burst"),
  { scenario: "burst4x", label: "burst4x (deliveries/s)", value: (s) => s.rate, rate: true },
  cpu("burst4x", "delivery"),
  ...probes("burst4x"),
  { scenario: "http", label: "http GET /health (requests/s)", value: (s) => s.rate, rate: true },
  cpu("http", "request"),
  {
    scenario: "shutdown",
    label: "shutdown: SIGTERM to exit (ms, lower is better)",
    value: (s) => s.exitMs,
  },
  {
    scenario: "shutdown",
    label: "shutdown: SIGTERM to last socket closed (ms)",
    value: (s) => s.lastCloseMs,
  },
  {
    scenario: "shutdown",
    label: "shutdown: sockets without a clean 1001 close",
    value: (s) => s.uncleanCloses,
  },
];

/** The server a figure is divided by: the hand-written one, or bare Hono for HTTP. */
export const referenceOf = (scenario: Scenario): Kind => (scenario === "http" ? "hono" : "baseline");

export function statOf(values: Array<number | undefined | null>): Stat | null {
  const known = values.filter((v): v is number => typeof v === "number" && Number.isFinite(v));
  if (known.length === 0) return null;
  const sorted = [...known].sort((a, b) => a - b);
  return {
    // Of an even count, the mean of the middle two (2 rounds is the default).
    median: (sorted[Math.floor((sorted.length - 1) / 2)]! + sorted[Math.floor(sorted.length / 2)]!) / 2,
    min: sorted[0]!,
    max: sorted[sorted.length - 1]!,
    n: sorted.length,
  };
}

const k = (n: number) =>
  Math.abs(n) >= 10_000 ? `${Math.round(n / 1000)}k` : n.toFixed(Math.abs(n) >= 100 ? 0 : 2);
const cell = (s: Stat | null) => (s ? `${k(s.median)} (${k(s.min)}-${k(s.max)})` : "–");
const ratio = (a: Stat | null, b: Stat | null) =>
  a && b && b.median !== 0 ? `${(a.median / b.median).toFixed(2)}x` : "";

/** A run's samples, with the look-ups the tables and the chart need. */
export class Results {
  readonly samples: Sample[];
  readonly idle: Idle[];
  readonly labels: Record<Kind, string>;

  constructor(samples: Sample[], idle: Idle[], labels: Record<Kind, string>) {
    this.samples = samples;
    this.idle = idle;
    this.labels = labels;
  }

  stat(runtime: RuntimeName, kind: Kind, figure: Figure): Stat | null {
    return statOf(
      this.samples
        .filter((s) => s.runtime === runtime && s.kind === kind && s.scenario === figure.scenario)
        .map((s) => figure.value(s)),
    );
  }

  idleStat(runtime: RuntimeName, kind: Kind): Stat | null {
    return statOf(this.idle.filter((i) => i.runtime === runtime && i.kind === kind).map((i) => i.rssMb));
  }

  /** Every figure of every server, as markdown, and the same as JSON-ready data. */
  table(runtimes: RuntimeName[], kinds: Kind[]) {
    const header = [
      "runtime",
      "figure",
      "server",
      "median (min-max)",
      "÷ hand-written¹",
      "÷ this project (memory)",
    ];
    const lines = [`| ${header.join(" | ")} |`, `|${header.map(() => "---").join("|")}|`];
    const summary: Record<string, Partial<Record<Kind, Stat>>> = {};
    const row = (runtime: RuntimeName, label: string, stats: Partial<Record<Kind, Stat>>, ref: Kind) => {
      summary[`${runtime} ${label}`] = stats;
      for (const kind of kinds) {
        const stat = stats[kind];
        if (!stat) continue;
        const vsRef = kind === ref ? "" : ratio(stat, stats[ref] ?? null);
        const vsProject = kind === "project" ? "" : ratio(stat, stats.project ?? null);
        lines.push(
          `| ${runtime} | ${label} | ${this.labels[kind]} | ${cell(stat)} | ${vsRef} | ${vsProject} |`,
        );
      }
    };
    for (const runtime of runtimes) {
      for (const figure of FIGURES) {
        const stats: Partial<Record<Kind, Stat>> = {};
        for (const kind of kinds) {
          const stat = this.stat(runtime, kind, figure);
          if (stat) stats[kind] = stat;
        }
        if (Object.keys(stats).length) row(runtime, figure.label, stats, referenceOf(figure.scenario));
      }
      const idle: Partial<Record<Kind, Stat>> = {};
      for (const kind of kinds) {
        const stat = this.idleStat(runtime, kind);
        if (stat) idle[kind] = stat;
      }
      row(runtime, "idle RSS (MB)", idle, "baseline");
    }
    lines.push("", "¹ for `http`: ÷ bare Hono (the same handler without the project around it).");
    return { markdown: lines.join("\n"), summary };
  }
}
