/**
 * POST /api/updates `{ "topic": "orders", "data": {...} }`: pushes an update to every connected
 * dashboard (`consumers/live.ts`) through the channel layer, from plain HTTP. Logged-in users only
 * (a token from `routes/_middleware.ts`): an open broadcast endpoint would let anyone write to
 * every dashboard.
 */
import type { Context } from "hono";
import { LIVE_GROUP, type LiveEvents } from "../../consumers/live.ts";
import type { ChannelsEnv } from "../../src/index.ts";

export async function POST(c: Context<ChannelsEnv<LiveEvents>>) {
  if (!c.var.user) return c.json({ error: "Log in first: send a token as Authorization: Bearer ..." }, 401);
  const body = (await c.req.json().catch(() => null)) as { topic?: unknown; data?: unknown } | null;
  if (typeof body?.topic !== "string" || body.topic === "") {
    return c.json({ error: 'Send JSON { "topic": "...", "data": ... }.' }, 400);
  }
  const update = { topic: body.topic, data: body.data ?? null, at: new Date().toISOString() };
  await c.var.layer.groupSend(LIVE_GROUP, { type: "live.update", ...update });
  return c.json({ sent: true }, 202);
}
