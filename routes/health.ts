/** GET /health: a liveness probe for load balancers and uptime checks. */
import type { Context } from "hono";

export function GET(c: Context) {
  return c.json({ status: "ok" });
}
