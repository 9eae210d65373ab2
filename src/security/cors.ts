/**
 * CORS for every view: Hono's `cors`, asked only about requests that carry an `Origin` header
 * (the ones a browser makes across origins). Hono's middleware sets its headers on `c.res` before
 * the view has answered and appends `Vary` after, and on Node each of those makes
 * @hono/node-server build the full WHATWG Response it otherwise never builds. A request without
 * `Origin` gets the same headers, prepared before the view answers, at no such cost: they are
 * for caches, so that a response stored for such a request is not reused for a page of an
 * allowed origin. Where only the server's own pages may read its responses (production, no
 * ALLOWED_ORIGINS) there is no such page, and such a request gets none: even prepared, on Node
 * they cost a tenth of a small view's time (Hono builds a WHATWG Headers for them).
 */
import type { Context, MiddlewareHandler } from "hono";
import { cors } from "hono/cors";

/**
 * `*` allows any origin and sends no credentials; otherwise `allowOrigin` decides, and cookies may
 * be sent (credentials). `ownOriginOnly`: no page but the server's own may read its responses.
 */
export function corsPolicy(
  anyOrigin: boolean,
  allowOrigin: (origin: string, c: Context) => boolean,
  ownOriginOnly = false,
): MiddlewareHandler {
  const full = anyOrigin
    ? cors({ origin: "*" })
    : cors({ origin: (origin, c) => (origin && allowOrigin(origin, c) ? origin : null), credentials: true });
  return (c, next) => {
    if (c.req.header("origin") !== undefined) return full(c, next);
    if (ownOriginOnly) return next();
    // What `full` would have added for a request without Origin: no origin is allowed, nothing else changes.
    if (anyOrigin) {
      c.header("Access-Control-Allow-Origin", "*");
    } else {
      c.header("Access-Control-Allow-Credentials", "true");
      c.header("Vary", "Origin", { append: true });
    }
    return next();
  };
}
