/**
 * Mounts a route table on Hono apps. Pure: no file system, no runtime checks. HTTP requests go
 * through the `routes/` tree, upgrade requests through the `consumers/` tree, so a page and its
 * socket can share one URL.
 */
import { Hono, type MiddlewareHandler } from "hono";
import { createUpgradeHandler, isWebSocketUpgrade, type UpgradeContext } from "../consumer/upgrade.ts";
import type { MiddlewareRoute, RouteTable } from "./manifest.ts";

/** Mounts both trees on `app`: its HTTP routes directly, upgrades through a router of their own. */
export function registerRoutes(app: Hono, table: RouteTable, context: UpgradeContext): void {
  const sockets = new Hono({ strict: false });
  mountMiddleware(sockets, table.socketMiddleware);
  for (const route of table.sockets) {
    sockets.get(route.path.pattern, createUpgradeHandler(route.consumer, context));
  }

  // Upgrades leave the HTTP tree before any of its middleware runs.
  app.use(async (c, next) => {
    if (isWebSocketUpgrade(c)) return sockets.fetch(c.req.raw, c.env, executionContextOf(c));
    await next();
  });
  mountMiddleware(app, table.httpMiddleware);
  for (const route of table.http) {
    if (route.app) app.route(route.path.pattern, route.app);
    for (const [method, handler] of Object.entries(route.handlers)) {
      app.on(method, route.path.pattern, handler);
    }
  }

  // A plain request to a socket-only path learns what the path is for, instead of a bare 404.
  const httpShapes = new Set(table.http.map((route) => route.path.shape));
  for (const route of table.sockets) {
    if (httpShapes.has(route.path.shape)) continue;
    app.get(route.path.pattern, (c) =>
      c.text("This path accepts WebSocket connections only.", 426, { Upgrade: "websocket" }),
    );
  }
}

function mountMiddleware(app: Hono, middleware: MiddlewareRoute[]): void {
  for (const { path, handlers } of middleware) {
    if (path.pattern === "/") {
      app.use(...handlers);
    } else {
      app.use(path.pattern, ...handlers);
      app.use(`${path.pattern}/*`, ...handlers);
    }
  }
}

/** Hono throws when a runtime has no execution context; pass it on only where there is one. */
function executionContextOf(c: Parameters<MiddlewareHandler>[0]) {
  try {
    return c.executionCtx;
  } catch {
    return undefined;
  }
}
