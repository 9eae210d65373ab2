/**
 * Mounts a route table on Hono apps. Pure: no file system, no runtime checks. HTTP requests go
 * through the `routes/` tree, upgrade requests through the `consumers/` tree, so a page and its
 * socket can share one URL.
 */
import { type ErrorHandler, type Handler, Hono, type MiddlewareHandler } from "hono";
import type { FetchHandler } from "../adapters/runtime.ts";
import { createUpgradeHandler, type UpgradeContext } from "../consumer/upgrade.ts";
import { isWebSocketUpgrade } from "../consumer/upgrade-request.ts";
import { HTTP_METHODS, type HttpRoute, type MiddlewareRoute, type RouteTable } from "./manifest.ts";

/** The framework's own middleware, run before any `_middleware` file of the tree. */
export interface FrameworkMiddleware {
  /** For HTTP requests: CORS, the body limit. */
  http: MiddlewareHandler[];
  /** For upgrade requests: the origin check. */
  sockets: MiddlewareHandler[];
  /** Answers an error thrown by a view, a consumer's middleware or an upgrade. */
  onError?: ErrorHandler;
}

// The sockets tree of each app registerRoutes built: adapters can hand it upgrades directly.
const socketTrees = new WeakMap<Hono, Hono>();

/**
 * Answers upgrade requests for `app` straight from its sockets tree: what `app.fetch` does for
 * them one routing later (the HTTP tree's router, its first middleware, a second context). Null for
 * an app `registerRoutes` did not build. No execution context: the adapters have none to pass.
 */
export function upgradeFetch(app: Hono): FetchHandler | null {
  const sockets = socketTrees.get(app);
  return sockets ? (request, env) => sockets.fetch(request, env as object) : null;
}

/** Mounts both trees on `app`: its HTTP routes directly, upgrades through a router of their own. */
export function registerRoutes(
  app: Hono,
  table: RouteTable,
  context: UpgradeContext,
  framework: FrameworkMiddleware = { http: [], sockets: [] },
): void {
  // Views and consumers' middleware reach the layer as c.var.layer. Middleware here hands on
  // next()'s promise rather than awaiting it: no promise and microtask of its own per request.
  const provideLayer: MiddlewareHandler = (c, next) => {
    c.set("layer", context.layer);
    return next();
  };
  const sockets = new Hono({ strict: false });
  if (framework.onError) {
    sockets.onError(framework.onError);
    app.onError(framework.onError);
  }
  socketTrees.set(app, sockets);
  sockets.use(provideLayer, ...framework.sockets);
  useRootMiddleware(sockets, table.socketMiddleware);
  for (const route of table.sockets) {
    sockets.on(
      "GET",
      route.path.pattern,
      ...chain(route.middleware, createUpgradeHandler(route.consumer, context)),
    );
  }

  app.use(provideLayer);
  // Upgrades leave the HTTP tree before any of its middleware (CORS included) runs.
  app.use((c, next) =>
    isWebSocketUpgrade(c) ? Promise.resolve(sockets.fetch(c.req.raw, c.env, executionContextOf(c))) : next(),
  );
  if (framework.http.length > 0) app.use(...framework.http);
  useRootMiddleware(app, table.httpMiddleware);
  for (const route of table.http) mountHttpRoute(app, route);
  // After every route's handlers: a method that another file's pattern serves still reaches it.
  for (const route of table.http) refuseOtherMethods(app, route);

  // A plain request to a socket-only path learns what the path is for, instead of a bare 404.
  const httpShapes = new Set(table.http.map((route) => route.path.shape));
  for (const route of table.sockets) {
    if (httpShapes.has(route.path.shape)) continue;
    app.get(route.path.pattern, (c) =>
      c.text("This path accepts WebSocket connections only.", 426, { Upgrade: "websocket" }),
    );
  }
}

/** The tree's root `_middleware` covers every request of the tree, unmatched ones included. */
function useRootMiddleware(app: Hono, middleware: MiddlewareRoute[]): void {
  for (const { folder, handlers } of middleware) {
    if (folder === "") app.use(...handlers);
  }
}

function mountHttpRoute(app: Hono, route: HttpRoute): void {
  const { pattern } = route.path;
  if (route.app) {
    const mounted = new Hono({ strict: false });
    if (route.middleware.length > 0) mounted.use(...route.middleware);
    app.route(pattern, mounted.route("/", route.app));
  }
  const { GET, HEAD, ...others } = route.handlers;
  // Hono routes HEAD requests to GET handlers; an exported HEAD handler takes them back.
  if (GET || HEAD) app.on("GET", pattern, ...chain(route.middleware, headOrGet(HEAD, GET)));
  for (const [method, handler] of Object.entries(others)) {
    app.on(method, pattern, ...chain(route.middleware, handler));
  }
}

/**
 * A method the file does not export answers 405 with `Allow` (HTTP's rule), not 404. A file that
 * mounts a whole Hono app answers for itself.
 */
function refuseOtherMethods(app: Hono, route: HttpRoute): void {
  if (route.app) return;
  const methods = Object.keys(route.handlers);
  if (route.handlers.GET && !methods.includes("HEAD")) methods.push("HEAD");
  const allow = HTTP_METHODS.filter((method) => methods.includes(method)).join(", ");
  app.all(route.path.pattern, (c) =>
    c.json(
      { error: "METHOD_NOT_ALLOWED", message: `${c.req.method} is not allowed here. Allowed: ${allow}.` },
      405,
      {
        Allow: allow,
      },
    ),
  );
}

/** Folder middleware then the handler, typed as Hono's non-empty handler list. */
function chain(middleware: MiddlewareHandler[], handler: Handler): [Handler, ...Handler[]] {
  const [first, ...rest] = [...(middleware as Handler[]), handler];
  return [first ?? handler, ...rest];
}

function headOrGet(head: Handler | undefined, get: Handler | undefined): Handler {
  return (c, next) => {
    const handler = c.req.method === "HEAD" && head ? head : get;
    return handler ? handler(c, next) : next();
  };
}

/**
 * Hono throws when a runtime has no execution context (Bun, Deno, Node: every upgrade here); pass it
 * on only where there is one. The throw is made without a stack trace, which was most of its cost.
 */
function executionContextOf(c: Parameters<Handler>[0]) {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return c.executionCtx;
  } catch {
    return undefined;
  } finally {
    Error.stackTraceLimit = limit;
  }
}
