/**
 * The manifest: every file of `routes/` and `consumers/` with its imported module. Scanning builds
 * one at startup; a bundled or compiled deployment can hand a generated one to `createApp` instead.
 * This module checks each module's shape and turns the manifest into an ordered route table.
 */
import type { Handler, Hono, MiddlewareHandler } from "hono";
import { type ConsumerClass, isConsumerClass } from "../consumer/consumer.ts";
import { relayTypes } from "../consumer/relay.ts";
import { RouteError } from "../errors.ts";
import { classifyFile, compareRoutes, fileToRoute, middlewareScope, type RoutePath } from "./path.ts";

/** One file of a tree and what it exports. */
export interface ManifestEntry {
  /** Path inside its tree, `/`-separated: `chat/[room].ts`. */
  file: string;
  module: Record<string, unknown>;
}

/** Both trees, as discovered by `scanProject()` or written out ahead of time. */
export interface Manifest {
  routes: ManifestEntry[];
  consumers: ManifestEntry[];
}

/** HTTP methods a route file may export handlers for. Without a `HEAD` export, HEAD runs `GET`. */
export const HTTP_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

/** A file of `routes/`: method handlers, or a whole Hono app mounted at its path. */
export interface HttpRoute {
  file: string;
  path: RoutePath;
  handlers: Partial<Record<HttpMethod, Handler>>;
  app: Hono | null;
  /** Middleware of the folders that hold this file (outermost first), the tree's root excepted. */
  middleware: MiddlewareHandler[];
}

/** A file of `consumers/`. */
export interface SocketRoute {
  file: string;
  path: RoutePath;
  consumer: ConsumerClass;
  /** Middleware of the folders that hold this file (outermost first), the tree's root excepted. */
  middleware: MiddlewareHandler[];
}

/** A `_middleware` file and the folder it covers. */
export interface MiddlewareRoute {
  file: string;
  /** Its folder inside the tree, `""` for the root; it applies to the files below it. */
  folder: string;
  /** The folder's URL pattern, for display. */
  path: RoutePath;
  handlers: MiddlewareHandler[];
}

/** Everything to mount, each list already in the order it must be registered. */
export interface RouteTable {
  http: HttpRoute[];
  sockets: SocketRoute[];
  /** Every `_middleware` file, outermost first. Root ones apply to all requests of their tree. */
  httpMiddleware: MiddlewareRoute[];
  socketMiddleware: MiddlewareRoute[];
}

/** Checks every module and orders the routes; throws a `RouteError` naming the first bad file. */
export function resolveManifest(manifest: Manifest): RouteTable {
  const routes = resolveTree("routes", manifest.routes);
  const consumers = resolveTree("consumers", manifest.consumers);
  return {
    http: routes.routes.map((route) => toHttpRoute(route)),
    sockets: consumers.routes.map((route) => toSocketRoute(route)),
    httpMiddleware: routes.middleware,
    socketMiddleware: consumers.middleware,
  };
}

interface Placed {
  file: string;
  path: RoutePath;
  module: Record<string, unknown>;
  middleware: MiddlewareHandler[];
}

function resolveTree(tree: string, entries: ManifestEntry[]) {
  const routes: Placed[] = [];
  const middleware: MiddlewareRoute[] = [];
  const byShape = new Map<string, string>();
  for (const entry of entries) {
    const file = `${tree}/${entry.file}`;
    const role = classifyFile(entry.file);
    if (role === "middleware") {
      const folder = entry.file.split("/").slice(0, -1).join("/");
      middleware.push(toMiddleware(file, folder, middlewareScope(entry.file, file), entry.module));
    } else if (role === "route") {
      const path = fileToRoute(entry.file, file);
      const other = byShape.get(path.shape);
      if (other) {
        throw new RouteError(
          "DUPLICATE_ROUTE",
          file,
          `Both ${other} and ${file} claim ${path.pattern}. One path, one file: remove or rename one of them.`,
        );
      }
      byShape.set(path.shape, file);
      routes.push({ file, path, module: entry.module, middleware: [] });
    }
  }
  routes.sort((a, b) => compareRoutes(a.path, b.path));
  // Outer folders first, so a parent's middleware runs before its children's.
  middleware.sort((a, b) => depth(a.folder) - depth(b.folder) || (a.folder < b.folder ? -1 : 1));
  // A folder's middleware belongs to the files in it, not to URLs that look alike: `[id]/` must not
  // wrap a sibling `about.ts`, and `(group)/` must not wrap the rest of the tree.
  for (const route of routes) {
    const relative = route.file.slice(tree.length + 1);
    route.middleware = middleware
      .filter(({ folder }) => folder !== "" && relative.startsWith(`${folder}/`))
      .flatMap(({ handlers }) => handlers);
  }
  return { routes, middleware };
}

function depth(folder: string): number {
  return folder === "" ? 0 : folder.split("/").length;
}

function toHttpRoute({ file, path, module, middleware }: Placed): HttpRoute {
  const handlers: HttpRoute["handlers"] = {};
  for (const method of HTTP_METHODS) {
    const handler = module[method];
    if (handler === undefined) continue;
    if (typeof handler !== "function") {
      throw new RouteError(
        "NO_HANDLER",
        file,
        `Export ${method} is a ${typeof handler}, not a handler function.`,
      );
    }
    handlers[method] = handler as Handler;
  }
  const app = isHonoApp(module.default) ? module.default : null;
  if (!app && Object.keys(handlers).length === 0) {
    throw new RouteError(
      "NO_HANDLER",
      file,
      `A route file exports handlers named after HTTP methods (${HTTP_METHODS.join(", ")}) or a default Hono app; this one exports neither.`,
    );
  }
  return { file, path, handlers, app, middleware };
}

function toSocketRoute({ file, path, module, middleware }: Placed): SocketRoute {
  if (!isConsumerClass(module.default)) {
    throw new RouteError(
      "NO_CONSUMER",
      file,
      "A consumer file default-exports a class extending Consumer (or JsonConsumer); this one does not.",
    );
  }
  try {
    relayTypes(module.default); // a bad `static relays` fails the start, not each connection
  } catch (error) {
    throw new RouteError("BAD_RELAYS", file, (error as Error).message);
  }
  return { file, path, consumer: module.default, middleware };
}

function toMiddleware(
  file: string,
  folder: string,
  path: RoutePath,
  module: Record<string, unknown>,
): MiddlewareRoute {
  const exported = module.default;
  const handlers = Array.isArray(exported) ? exported : [exported];
  if (handlers.length === 0 || !handlers.every((handler) => typeof handler === "function")) {
    throw new RouteError(
      "INVALID_MIDDLEWARE",
      file,
      "A _middleware file default-exports a Hono middleware function or an array of them.",
    );
  }
  return { file, folder, path, handlers: handlers as MiddlewareHandler[] };
}

function isHonoApp(value: unknown): value is Hono {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as Hono).fetch === "function" &&
    Array.isArray((value as Hono).routes)
  );
}
