/**
 * POST /api/reports `{ "room": "lobby" }`: hands a slow job to the `reports` worker
 * (`workers/reports.ts`) and answers 202 at once; the report appears in the room when it is ready.
 */
import type { Context } from "hono";
import { type ChannelsEnv, readJson } from "hono-channels";
import type { ReportRequest } from "../../workers/reports.ts";

const ROOM = /^[\w-]{1,50}$/;

export async function POST(c: Context<ChannelsEnv<{ "report.build": Omit<ReportRequest, "type"> }>>) {
  const body = (await readJson(c)) as { room?: unknown } | null;
  if (typeof body?.room !== "string" || !ROOM.test(body.room)) {
    return c.json({ error: 'Send JSON { "room": "..." } (letters, digits, _ and -).' }, 400);
  }
  const by = c.var.user?.name ?? "anon";
  await c.var.layer.send("reports", { type: "report.build", room: body.room, by });
  return c.json({ queued: true }, 202);
}
