/**
 * The body size limit of every view: Hono's `bodyLimit`, asked only about requests that declare a
 * body. Hono's check reads `c.req.raw.body`, and on Node that one read makes @hono/node-server build
 * the full WHATWG Request (an AbortController, undici's Request and Headers) that it otherwise
 * never builds: most of what a GET cost there. A GET or HEAD that declares no body (no
 * `Content-Length`, no `Transfer-Encoding`; over HTTP/1.1 it then has none) skips the check; every
 * other request, including one built in-process without those headers, is checked as before.
 */
import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";

/** Refuses bodies over `maxBytes` with `onError`'s answer; a GET or HEAD without a body passes untouched. */
export function limitBodies(
  maxBytes: number,
  onError: Parameters<typeof bodyLimit>[0]["onError"],
): MiddlewareHandler {
  const limit = bodyLimit({ maxSize: maxBytes, onError });
  return (c, next) => {
    const { method } = c.req;
    const bodiless =
      (method === "GET" || method === "HEAD") &&
      c.req.header("content-length") === undefined &&
      c.req.header("transfer-encoding") === undefined;
    return bodiless ? next() : limit(c, next);
  };
}
