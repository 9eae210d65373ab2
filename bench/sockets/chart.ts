/**
 * bench/results/sockets.svg: for each runtime and scenario, a group of bars, one per server, each
 * the server's rate ÷ the hand-written server's (bare Hono's for `http`) in the same run; a dashed
 * line at the project's target where an issue set one. Hand-written SVG: no charting dependency.
 */
import { FIGURES, type Results, referenceOf } from "./report.ts";
import type { Kind, RuntimeName } from "./servers.ts";
import type { Target } from "./targets.ts";

const COLORS: Record<Kind, string> = {
  project: "#1f77b4",
  redis: "#d62728",
  before: "#7f7f7f",
  baseline: "#2ca02c",
  hono: "#ff7f0e",
  socketio: "#9467bd",
  "socketio-redis": "#8c564b",
};

const BAR = 12;
const GAP = 18;
const TOP = 70;
const HEIGHT = 260;
/** Bars taller than this ratio are cut, with their value written above. */
const CEILING = 3;

const xml = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

export function chart(
  results: Results,
  runtimes: RuntimeName[],
  kinds: Kind[],
  goals: Target[],
  caption: string,
): string {
  type Group = { title: string; bars: Array<{ kind: Kind; ratio: number }>; target?: number };
  const groups: Group[] = [];
  for (const runtime of runtimes) {
    for (const figure of FIGURES.filter((f) => f.rate)) {
      const reference = referenceOf(figure.scenario);
      const base = results.stat(runtime, reference, figure);
      if (!base) continue;
      const bars = kinds
        .filter((kind) => kind !== reference)
        .map((kind) => ({ kind, stat: results.stat(runtime, kind, figure) }))
        .filter((bar) => bar.stat)
        .map((bar) => ({ kind: bar.kind, ratio: bar.stat!.median / base.median }));
      if (bars.length === 0) continue;
      const goal = goals.find(
        (g) =>
          g.runtime === runtime && g.figure === figure && g.kind === "project" && g.against === reference,
      );
      groups.push({ title: `${runtime} ${figure.scenario}`, bars, target: goal?.value });
    }
  }
  const widthOf = (group: Group) => group.bars.length * BAR + GAP;
  const width = 60 + groups.reduce((sum, group) => sum + widthOf(group), 0) + 20;
  const y = (ratio: number) => TOP + HEIGHT - (Math.min(Math.max(ratio, 0), CEILING) / CEILING) * HEIGHT;
  const parts: string[] = [];
  // Grid: every 0.5x, the 1x line (parity with the reference) stronger.
  for (let r = 0; r <= CEILING; r += 0.5) {
    parts.push(
      `<line x1="50" x2="${width - 10}" y1="${y(r)}" y2="${y(r)}" stroke="${r === 1 ? "#444" : "#ddd"}"/>`,
      `<text x="45" y="${y(r) + 4}" text-anchor="end">${r}x</text>`,
    );
  }
  let x = 60;
  for (const group of groups) {
    for (const [i, bar] of group.bars.entries()) {
      const left = x + i * BAR;
      const top = y(bar.ratio);
      parts.push(
        `<rect x="${left}" y="${top}" width="${BAR - 2}" height="${TOP + HEIGHT - top}" fill="${COLORS[bar.kind]}"><title>${xml(results.labels[bar.kind])}: ${bar.ratio.toFixed(2)}x</title></rect>`,
      );
      if (bar.ratio > CEILING) {
        parts.push(
          `<text x="${left + BAR / 2}" y="${top - 4}" text-anchor="middle" font-size="9">${bar.ratio.toFixed(1)}</text>`,
        );
      }
    }
    if (group.target !== undefined) {
      parts.push(
        `<line x1="${x - 3}" x2="${x + group.bars.length * BAR + 1}" y1="${y(group.target)}" y2="${y(group.target)}" stroke="#000" stroke-width="2" stroke-dasharray="4 2"><title>target ${group.target}x</title></line>`,
      );
    }
    parts.push(
      `<text transform="translate(${x + (group.bars.length * BAR) / 2},${TOP + HEIGHT + 10}) rotate(40)" font-size="10">${xml(group.title)}</text>`,
    );
    x += widthOf(group);
  }
  const legend = kinds
    .filter((kind) => groups.some((group) => group.bars.some((bar) => bar.kind === kind)))
    .map(
      (kind, i) =>
        `<rect x="${60 + i * 170}" y="40" width="10" height="10" fill="${COLORS[kind]}"/><text x="${75 + i * 170}" y="49">${xml(results.labels[kind])}</text>`,
    );
  const height = TOP + HEIGHT + 80;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">
<title>Socket benchmark: each server's rate ÷ the hand-written server's, per runtime and scenario</title>
<rect width="100%" height="100%" fill="#fff"/>
<text x="10" y="16" font-size="13">Rate ÷ hand-written server (http: ÷ bare Hono), medians of the same run; dashed: the project's target</text>
<text x="10" y="29" font-size="10" fill="#555">${xml(caption)}</text>
${legend.join("\n")}
${parts.join("\n")}
</svg>
`;
}
