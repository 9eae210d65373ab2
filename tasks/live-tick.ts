/**
 * Every `LIVE_TICK_SECONDS` seconds (default 10): a `live.tick` to every open dashboard
 * (`consumers/live.ts`), which shows it. With the Redis layer one process sends it, whichever holds
 * the task's lease, so each dashboard gets one tick per interval however many processes run.
 */
import process from "node:process";
import type { TaskContext } from "hono-channels";
import { LIVE_GROUP, type LiveEvents } from "../consumers/live.ts";

export const every = Number(process.env.LIVE_TICK_SECONDS ?? 10);

export default async function liveTick({ layer }: TaskContext<LiveEvents>) {
  await layer.groupSend(LIVE_GROUP, { type: "live.tick", at: new Date().toISOString() });
}
