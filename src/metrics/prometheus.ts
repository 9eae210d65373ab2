/**
 * `/metrics` in Prometheus's text format (version 0.0.4): the process's counters, the open
 * connections, the layer's status, and what the background work did.
 */
import type { BackgroundStats } from "../background/background.ts";
import type { ConnectionSet } from "../consumer/connections.ts";
import { type ChannelLayer, layerStatus } from "../layers/layer.ts";
import { counters, type Histogram } from "./counters.ts";

/** Where the figures come from. */
export interface MetricsSources {
  connections: ConnectionSet;
  layer: ChannelLayer;
  background?: BackgroundStats | null;
  /** Messages waiting per worker channel, read just before rendering (see `workerBacklog`). */
  backlog?: Map<string, number>;
}

const PREFIX = "hono_channels";

/** The exposition text. */
export function renderMetrics({ connections, layer, background, backlog }: MetricsSources): string {
  const out: string[] = [];
  const metric = (name: string, type: string, help: string, samples: Array<[string, number]>) => {
    out.push(`# HELP ${PREFIX}_${name} ${help}`, `# TYPE ${PREFIX}_${name} ${type}`);
    for (const [labels, value] of samples) out.push(`${PREFIX}_${name}${labels} ${value}`);
  };
  const one = (value: number): Array<[string, number]> => [["", value]];
  metric("connections_open", "gauge", "WebSocket connections open now.", one(connections.size));
  metric(
    "connections_opened_total",
    "counter",
    "WebSocket connections opened.",
    one(counters.connectionsOpened),
  );
  metric(
    "connections_closed_total",
    "counter",
    "WebSocket connections closed.",
    one(counters.connectionsClosed),
  );
  metric("frames_received_total", "counter", "Frames received from clients.", one(counters.framesIn));
  metric("frames_sent_total", "counter", "Frames sent to clients.", one(counters.framesOut));
  metric("layer_sends_total", "counter", "Channel layer send() calls.", one(counters.sends));
  metric("layer_group_sends_total", "counter", "Channel layer groupSend() calls.", one(counters.groupSends));
  metric(
    "layer_errors_total",
    "counter",
    "send() and groupSend() calls that failed.",
    one(counters.layerErrors),
  );
  const up = Number(layerStatus(layer) === "up");
  metric("layer_up", "gauge", "1 while the channel layer reaches its backend.", one(up));
  histogram("handler_duration_seconds", "Consumer handler run time.", counters.handlerSeconds, out);
  const tasks = [...(background?.tasks ?? [])];
  const workers = [...(background?.workers ?? [])];
  metric(
    "task_runs_total",
    "counter",
    "Periodic task runs in this process.",
    tasks.map(([name, s]) => [label("task", name), s.runs]),
  );
  metric(
    "task_failures_total",
    "counter",
    "Periodic task runs that threw.",
    tasks.map(([name, s]) => [label("task", name), s.failures]),
  );
  metric(
    "task_lease_held",
    "gauge",
    "1 while this process holds the task's lease.",
    tasks.map(([name, s]) => [label("task", name), Number(s.holding)]),
  );
  metric(
    "worker_messages_total",
    "counter",
    "Messages workers handled.",
    workers.map(([name, s]) => [label("channel", name), s.handled]),
  );
  metric(
    "worker_failures_total",
    "counter",
    "Messages whose worker handler threw or was missing.",
    workers.map(([name, s]) => [label("channel", name), s.failed]),
  );
  metric(
    "worker_backlog",
    "gauge",
    "Messages waiting on a worker's channel.",
    [...(backlog ?? [])].map(([name, queued]) => [label("channel", name), queued]),
  );
  return `${out.join("\n")}\n`;
}

/** How long a scrape waits for the layer to say how much each worker channel holds. */
const BACKLOG_TIMEOUT_MS = 500;

/** Messages waiting on each worker's channel; a channel the layer cannot answer for in time is left out. */
export async function workerBacklog(
  layer: ChannelLayer,
  channels: Iterable<string>,
): Promise<Map<string, number>> {
  const backlog = new Map<string, number>();
  const queued = (layer as { queued?: (channel: string) => Promise<number> }).queued;
  if (!queued) return backlog;
  await Promise.all(
    [...channels].map(async (channel) => {
      const timeout = new Promise<null>((resolve) => setTimeout(resolve, BACKLOG_TIMEOUT_MS, null));
      const count = await Promise.race([queued.call(layer, channel).catch(() => null), timeout]);
      if (typeof count === "number") backlog.set(channel, count);
    }),
  );
  return backlog;
}

function histogram(name: string, help: string, h: Histogram, out: string[]): void {
  out.push(`# HELP ${PREFIX}_${name} ${help}`, `# TYPE ${PREFIX}_${name} histogram`);
  let cumulative = 0;
  h.buckets.forEach((bound, i) => {
    cumulative += h.counts[i]!;
    out.push(`${PREFIX}_${name}_bucket{le="${bound}"} ${cumulative}`);
  });
  out.push(
    `${PREFIX}_${name}_bucket{le="+Inf"} ${h.count}`,
    `${PREFIX}_${name}_sum ${h.sum}`,
    `${PREFIX}_${name}_count ${h.count}`,
  );
}

/** `{key="value"}`, with the value escaped as the format requires. */
function label(key: string, value: string): string {
  return `{${key}="${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"}`;
}
