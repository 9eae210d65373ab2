/**
 * The `reports` channel's worker: builds a room report away from the request that asked for it
 * (`POST /api/reports`), then posts it to the room. Runs in the server process by default, or in
 * `npm run worker` processes; with the Redis layer, workers in several processes share the work
 * and each request is handled once.
 */
import { Worker } from "hono-channels";
import type { ChatEvents } from "../consumers/chat/[room].ts";

/** What `POST /api/reports` sends on the `reports` channel. */
export type ReportRequest = { type: "report.build"; room: string; by: string };

export default class Reports extends Worker<ChatEvents> {
  async reportBuild({ room, by }: ReportRequest) {
    // Stands in for slow work (a query, a PDF): the view that asked has long answered.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const text = `Report for #${room}, asked by ${by}, ready at ${new Date().toISOString()}.`;
    await this.channelLayer.groupSend(`chat.${room}`, { type: "chat.message", user: "reports", text });
  }
}
