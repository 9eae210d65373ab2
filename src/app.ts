/**
 * `createApp`: a manifest in, a Hono app out. No I/O here: the same call serves a scanned
 * project, a generated manifest, or a test using `app.request()`.
 */
import { Hono, type MiddlewareHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { Runtime } from "./adapters/runtime.ts";
import type { BackgroundStats } from "./background/background.ts";
import { logRefusedUpgrade, logUnreportedRefusals } from "./consumer/connection-log.ts";
import { ConnectionSet } from "./consumer/connections.ts";
import type { User } from "./consumer/scope.ts";
import { InvalidJsonError, LayerOutcomeUnknownError, LayerUnavailableError } from "./errors.ts";
import { getChannelLayer } from "./layers/default.ts";
import type { ChannelLayer, MessageMap } from "./layers/layer.ts";
import { createLogger, type Logger } from "./log.ts";
import { metricsHandler } from "./metrics/endpoint.ts";
import { type Manifest, resolveManifest } from "./routing/manifest.ts";
import { registerRoutes } from "./routing/register.ts";
import { limitBodies } from "./security/body-limit.ts";
import { corsPolicy } from "./security/cors.ts";
import { DEFAULT_LIMITS, type Limits } from "./security/limits.ts";
import { createOriginPolicy, originCheck } from "./security/origin.ts";

/**
 * The Hono environment of views and middleware: `c.var.layer` (typed by `M`, the messages the view
 * sends), and `c.var.user` once auth middleware set it. Use as `Context<ChannelsEnv<ChatEvents>>`.
 */
export type ChannelsEnv<M extends MessageMap = MessageMap> = {
  Variables: { layer: ChannelLayer<M>; user?: User | null };
};

/** Options of `createApp`. */
export interface AppOptions {
  /** The route files; from `scanProject()` or generated ahead of time. */
  manifest: Manifest;
  /** The runtime adapter that performs upgrades; without one, upgrade requests answer 501. */
  runtime?: Pick<Runtime, "upgrade" | "client"> | null;
  /** The channel layer consumers and views share; `getChannelLayer()` by default. */
  layer?: ChannelLayer;
  logger?: Logger;
  /** Tracks live connections for graceful shutdown; pass one to close them later. */
  connections?: ConnectionSet;
  /** Origins allowed to open sockets and make CORS requests (ALLOWED_ORIGINS); null = the default. */
  allowedOrigins?: string[] | null;
  /** Production defaults: same-host origins only. */
  production?: boolean;
  /** Frame size, slow-client, rate and connection limits; `DEFAULT_LIMITS` by default. */
  limits?: Partial<Limits>;
  /**
   * GET /metrics (Prometheus): `token` (METRICS_TOKEN) to read it from anywhere, null for this
   * machine only; `background` adds the workers' and tasks' figures. False: no endpoint.
   */
  metrics?: { token: string | null; background?: BackgroundStats | null } | false;
}

/**
 * Builds the app: `routes/` as HTTP views, `consumers/` as WebSocket endpoints on the same paths.
 * @example
 * const app = createApp({ manifest: await scanProject(process.cwd()), runtime: await getRuntime() });
 */
export function createApp(options: AppOptions): Hono {
  const app = new Hono({ strict: false });
  const logger = options.logger ?? createLogger();
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const allowedOrigins = options.allowedOrigins ?? null;
  const allowOrigin = createOriginPolicy(allowedOrigins, options.production ?? false);
  const layer = options.layer ?? getChannelLayer();
  const connections = options.connections ?? new ConnectionSet();
  const metrics = options.metrics ?? { token: null };
  if (metrics) {
    // Before the views' middleware: a scrape is neither logged nor subject to CORS or auth.
    app.get(
      "/metrics",
      metricsHandler({
        token: metrics.token,
        client: (c) => options.runtime?.client(c) ?? null,
        sources: () => ({ connections, layer, background: metrics.background }),
      }),
    );
  }
  registerRoutes(
    app,
    resolveManifest(options.manifest),
    {
      runtime: options.runtime ?? null,
      logger,
      connections,
      layer,
      limits,
    },
    {
      http: [
        // Below info, not even the timing: a request's line would be dropped anyway.
        ...(logger.logs?.("info") === false ? [] : [accessLog(logger)]),
        // `*` allows any origin, so it must not also carry the user's cookies (credentials).
        corsPolicy(
          allowedOrigins?.includes("*") ?? false,
          (origin, c) => allowOrigin(origin, c.req.header("host")),
          // Outside production the default also lets localhost pages of any port read responses.
          allowedOrigins === null && (options.production ?? false),
        ),
        limitBodies(limits.maxBodyBytes, (c) =>
          c.json(
            { error: "BODY_TOO_LARGE", message: `Bodies are limited to ${limits.maxBodyBytes} bytes.` },
            413,
          ),
        ),
      ],
      sockets: [
        logUnreportedRefusals(logger),
        originCheck(allowOrigin, (c) => logRefusedUpgrade(logger, c, "origin", 403)),
      ],
      onError: (error, c) => {
        // Hono's own middleware (bearerAuth, jwt...) refuses with an HTTPException: keep its answer.
        if (error instanceof HTTPException) return error.getResponse();
        // readJson() refused the body (not JSON, or deeper than MAX_JSON_DEPTH): the client's fault.
        if (error instanceof InvalidJsonError) {
          return c.json({ error: error.code, message: error.message }, 400);
        }
        // Redis being away is an outage, not a bug in the view: say so, and let clients retry.
        if (error instanceof LayerUnavailableError) {
          return c.json(
            { error: error.code, message: "The channel layer is unavailable; try again shortly." },
            503,
          );
        }
        // Redis took the call but never confirmed it: the client must not assume either way.
        if (error instanceof LayerOutcomeUnknownError) {
          return c.json(
            {
              error: error.code,
              message: "The channel layer did not confirm the call; it may have been sent.",
            },
            503,
          );
        }
        logger.error(`${c.req.method} ${c.req.path} failed`, { error });
        return c.text("Internal Server Error", 500);
      },
    },
  );
  return app;
}

/**
 * One info line per HTTP request, once answered (errors included): method, path, status, duration.
 * The path only: a query string may carry a token, and bodies are never logged.
 */
function accessLog(logger: Logger): MiddlewareHandler {
  return async (c, next) => {
    const started = performance.now();
    await next();
    logger.info("http request", {
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      durationMs: Math.round(performance.now() - started),
    });
  };
}
