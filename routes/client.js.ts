/**
 * GET /client.js: the browser client the starter's pages import (`routes/_client.js`: JSON
 * messages, `on(type, fn)`, reconnect with backoff). Read once at startup.
 */
import { readFileSync } from "node:fs";
import type { Context } from "hono";

const source = readFileSync(new URL("./_client.js", import.meta.url), "utf8");

export function GET(c: Context) {
  return c.body(source, 200, {
    "Content-Type": "text/javascript; charset=utf-8",
    "Cache-Control": "no-cache",
  });
}
