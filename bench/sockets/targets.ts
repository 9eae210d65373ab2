/**
 * The targets the issues set, as data: each a figure of one server divided by the same figure of
 * another in the same run (or, for times, a bound in ms), and whether this run met it.
 */
import { FIGURES, type Figure, type Results } from "./report.ts";
import type { Kind, RuntimeName } from "./servers.ts";

export interface Target {
  runtime: RuntimeName;
  figure: Figure;
  kind: Kind;
  /** Divided by this server's figure; or, with `ms`, compared as it is. */
  against: Kind | "ms";
  op: ">=" | "<=";
  value: number;
  source: string;
  /** The runtime of the other side when it is not `runtime`'s (Socket.IO runs on Node only). */
  againstRuntime?: RuntimeName;
}

/** The figures whose label starts with `label` ("burst slowest" is both probes). */
const figures = (label: string) => FIGURES.filter((f) => f.label.startsWith(label));
const all: RuntimeName[] = ["bun", "deno", "node"];

/** The targets of issue 9 (project ÷ hand-written), and of this one. */
export function targets(shutdownTimeoutMs: number): Target[] {
  const list: Target[] = [];
  const add = (
    runtimes: RuntimeName[],
    labels: string[],
    kind: Kind,
    against: Target["against"],
    op: Target["op"],
    value: number,
    source: string,
  ) => {
    for (const runtime of runtimes) {
      for (const label of labels) {
        for (const figure of figures(label)) list.push({ runtime, figure, kind, against, op, value, source });
      }
    }
  };
  add(["bun"], ["rooms (", "fanout ("], "project", "baseline", ">=", 0.8, "issue 9");
  add(["bun"], ["echo p99"], "project", "baseline", "<=", 1.25, "issue 9");
  add(["bun"], ["connect memory"], "project", "baseline", "<=", 1.5, "issue 9");
  add(["node"], ["rooms ("], "project", "baseline", ">=", 1.0, "issue 9");
  add(["node"], ["echo (", "fanout ("], "project", "baseline", ">=", 0.8, "issue 9");
  add(["node"], ["connect ("], "project", "baseline", ">=", 0.6, "issue 9");
  add(["deno"], ["echo (", "fanout (", "rooms ("], "project", "baseline", ">=", 0.8, "issue 9");
  add(all, ["burst slowest", "burst4x slowest"], "project", "ms", "<=", 100, "issue 9 (fairness)");
  add(all, ["fanout (", "rooms ("], "redis", "project", ">=", 0.6, "Redis layer ÷ memory layer");
  add(["node"], ["fanout (", "rooms ("], "redis", "socketio-redis", ">=", 2, "÷ Socket.IO + redis-adapter");
  // Issue 9 sets this one for our Redis layer on Bun; Socket.IO runs on Node.
  for (const figure of [...figures("fanout ("), ...figures("rooms (")]) {
    list.push({
      runtime: "bun",
      figure,
      kind: "redis",
      against: "socketio-redis",
      againstRuntime: "node",
      op: ">=",
      value: 2,
      source: "issue 9 (Bun ÷ Socket.IO + redis-adapter on Node)",
    });
  }
  add(all, ["http GET"], "project", "hono", ">=", 0.9, "file route ÷ bare Hono");
  add(
    all,
    ["shutdown: SIGTERM to exit"],
    "project",
    "ms",
    "<=",
    shutdownTimeoutMs + 1000,
    "SHUTDOWN_TIMEOUT_MS + 1 s",
  );
  add(
    all,
    ["shutdown: SIGTERM to exit"],
    "redis",
    "ms",
    "<=",
    shutdownTimeoutMs + 1000,
    "SHUTDOWN_TIMEOUT_MS + 1 s",
  );
  return list;
}

/** The figure a target compares (a ratio, or ms), or null when this run lacks a side of it. */
export function measure(results: Results, target: Target): number | null {
  const mine = results.stat(target.runtime, target.kind, target.figure);
  if (!mine) return null;
  if (target.against === "ms") return mine.median;
  const other = results.stat(target.againstRuntime ?? target.runtime, target.against, target.figure);
  return other && other.median !== 0 ? mine.median / other.median : null;
}

export const met = (target: Target, value: number) =>
  target.op === ">=" ? value >= target.value : value <= target.value;

/** The targets this run can judge, as a markdown table. */
export function targetTable(results: Results, list: Target[]): string {
  const lines = ["| runtime | target | this run | met? | from |", "|---|---|---|---|---|"];
  for (const target of list) {
    const value = measure(results, target);
    if (value === null) continue;
    const of = results.labels[target.kind];
    const what =
      target.against === "ms"
        ? `${of}: ${target.figure.label.replace(/ \(.*$/, "")} ${target.op} ${target.value} ms`
        : `${of} ÷ ${results.labels[target.against]}${target.againstRuntime ? ` (${target.againstRuntime})` : ""}: ${target.figure.label.replace(/ \(.*$/, "")} ${target.op} ${target.value}x`;
    const shown = target.against === "ms" ? `${Math.round(value)} ms` : `${value.toFixed(2)}x`;
    lines.push(
      `| ${target.runtime} | ${what} | ${shown} | ${met(target, value) ? "yes" : "**no**"} | ${target.source} |`,
    );
  }
  return lines.join("\n");
}
