/**
 * POST /api/updates `{ "topic": "orders", "data": {...} }`: pushes an update to every connected
 * dashboard (`consumers/live.ts`) through the channel layer, from plain HTTP. Logged-in users only
 * (a token from `routes/_middleware.ts`): an open broadcast endpoint would let anyone write to
 * every dashboard. The body is read with `readJson`: one body nested thousands deep would
 * otherwise reach every dashboard and fail in each one's JSON.stringify.
 */
import type { Context } from "hono";
import { type ChannelsEnv, readJson } from "hono-channels";
import { LIVE_GROUP, type LiveEvents } from "../../consumers/live.ts";

export async function POST(c: Context<ChannelsEnv<LiveEvents>>) {
  if (!c.var.user) return c.json({ error: "Log in first: send a token as Authorization: Bearer ..." }, 401);
  // Not JSON, or deeper than MAX_JSON_DEPTH: 400 INVALID_JSON, and nothing is sent.
  const body = (await readJson(c)) as { topic?: unknown; data?: unknown } | null;
  if (typeof body?.topic !== "string" || body.topic === "") {
    return c.json({ error: 'Send JSON { "topic": "...", "data": ... }.' }, 400);
  }
  const update = { topic: body.topic, data: body.data ?? null, at: new Date().toISOString() };
  await c.var.layer.groupSend(LIVE_GROUP, { type: "live.update", ...update });
  return c.json({ sent: true }, 202);
}
