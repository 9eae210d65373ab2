/**
 * GET /health: for load balancers and uptime checks. 200 while the channel layer reaches its
 * backend, 503 while it does not (Redis down or not reached yet), so a balancer stops sending
 * clients to a process whose group messages would not arrive.
 */
import type { Context } from "hono";
import { type ChannelsEnv, layerStatus } from "hono-channels";

export function GET(c: Context<ChannelsEnv>) {
  const layer = layerStatus(c.var.layer);
  return c.json({ status: layer === "up" ? "ok" : "unavailable", layer }, layer === "up" ? 200 : 503);
}
