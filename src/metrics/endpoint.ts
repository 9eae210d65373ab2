/**
 * GET /metrics. Who may read it: with `METRICS_TOKEN` set, whoever sends
 * `Authorization: Bearer <token>`; without it, clients on this machine only (a scraper beside the
 * server, or `curl localhost`), and never a request a proxy forwarded (it carries `Forwarded`,
 * `X-Forwarded-For` or `X-Real-IP`). A proxy that adds none of those makes every client look
 * local: set a token there.
 */
import { timingSafeEqual } from "node:crypto";
import type { Context, Handler } from "hono";
import type { Client } from "../adapters/runtime.ts";
import { type MetricsSources, renderMetrics, workerBacklog } from "./prometheus.ts";

/** Options of the endpoint. */
export interface MetricsOptions {
  /** `METRICS_TOKEN`; null reads from loopback only. */
  token: string | null;
  /** The client's address; from the runtime adapter. */
  client(c: Context): Client | null;
  sources(): MetricsSources;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/;

/** The handler for GET /metrics. */
export function metricsHandler(options: MetricsOptions): Handler {
  return async (c) => {
    if (options.token !== null) {
      const sent = /^Bearer (\S+)$/.exec(c.req.header("authorization") ?? "")?.[1] ?? "";
      if (!sameSecret(sent, options.token)) {
        return c.json(
          { error: "UNAUTHORIZED", message: "Send Authorization: Bearer <METRICS_TOKEN>." },
          401,
          {
            "WWW-Authenticate": 'Bearer realm="metrics"',
          },
        );
      }
    } else if (!LOOPBACK.test(options.client(c)?.address ?? "") || forwarded(c)) {
      return c.json(
        {
          error: "FORBIDDEN",
          message: "Metrics are readable from this machine only; set METRICS_TOKEN to read them remotely.",
        },
        403,
      );
    }
    const sources = options.sources();
    const backlog = await workerBacklog(sources.layer, sources.background?.workers.keys() ?? []);
    return c.text(renderMetrics({ ...sources, backlog }), 200, {
      "Content-Type": "text/plain; version=0.0.4; charset=utf-8",
    });
  };
}

/**
 * A request a proxy passed on: from loopback, but not from this machine. Without a token those are
 * refused, so a reverse proxy on the same host does not make the metrics public.
 */
function forwarded(c: Context): boolean {
  return ["forwarded", "x-forwarded-for", "x-real-ip"].some((name) => c.req.header(name) !== undefined);
}

function sameSecret(sent: string, expected: string): boolean {
  const [a, b] = [Buffer.from(sent), Buffer.from(expected)];
  return a.length === b.length && timingSafeEqual(a, b);
}
