/**
 * ws://host/live: a live dashboard. Every connection is in the `live` group, so an HTTP view
 * (`POST /api/updates`) or background code (`tasks/live-tick.ts`) reaches all of them; a client
 * can also ask for data by `type` and gets the answer alone.
 */
import process from "node:process";
import { JsonConsumer } from "hono-channels";

/** Messages sent to the `live` group. */
export type LiveEvents = {
  "live.update": { topic: string; data: unknown; at: string };
  "live.tick": { at: string };
};

/** The group every dashboard joins. */
export const LIVE_GROUP = "live";

export default class LiveDashboard extends JsonConsumer<LiveEvents> {
  override groups = [LIVE_GROUP];

  /** Requests from this client, answered to this client only. */
  override async receiveJson(request: unknown) {
    const type = (request as { type?: unknown } | null)?.type;
    switch (type) {
      case "time":
        return this.sendJson({ type: "time", now: new Date().toISOString() });
      case "status":
        return this.sendJson({
          type: "status",
          uptimeSeconds: Math.round(process.uptime()),
          channel: this.channelName,
        });
      default:
        return this.sendJson({
          type: "error",
          code: "UNKNOWN_REQUEST",
          message: 'Ask for { "type": "time" } or { "type": "status" }.',
        });
    }
  }

  /** The server's periodic tick (`tasks/live-tick.ts`). */
  liveTick(event: { type: "live.tick" } & LiveEvents["live.tick"]) {
    return this.sendJson(event);
  }

  /** Runs on every dashboard for each `live.update` sent to the group. */
  liveUpdate(event: { type: "live.update" } & LiveEvents["live.update"]) {
    return this.sendJson(event);
  }
}
