/**
 * Baseline: a bare Hono app, no file routes, no middleware, no consumers. Two uses:
 *
 * - HTTP, on every runtime: `GET /health` with the very handler of `routes/health.ts`, so the
 *   `http` scenario compares the project's file route (scan, middleware, app) to Hono alone.
 * - WebSockets, on Bun: `hono/bun`'s `upgradeWebSocket` with a hand-written `Map<room, Set<ws>>`,
 *   the room map people write first with Hono (echo at `/echo`, rooms at `/chat/<room>`).
 *
 * PORT from the environment.
 */
import process from "node:process";
import { Hono } from "hono";
import type { WSContext } from "hono/ws";
import { type ChannelsEnv, InMemoryChannelLayer } from "hono-channels";
import { GET as health } from "../../../routes/health.ts";

// biome-ignore lint/suspicious/noExplicitAny: Deno's types are not on npm; these are the calls used.
declare const Deno: any;

const port = Number(process.env.PORT ?? 0);
const hostname = "127.0.0.1";
const app = new Hono<ChannelsEnv>();
// The handler reads the layer's status: give it one, as the project's app does.
const layer = new InMemoryChannelLayer();
app.use(async (c, next) => {
  c.set("layer", layer);
  await next();
});
app.get("/health", health);

if (typeof Bun !== "undefined") {
  const { upgradeWebSocket, websocket } = await import("hono/bun");
  const rooms = new Map<string, Set<WSContext>>();
  app.get(
    "/echo",
    upgradeWebSocket(() => ({ onMessage: (event, ws) => ws.send(event.data as string) })),
  );
  app.get(
    "/chat/:room",
    upgradeWebSocket((c) => {
      const name = c.req.param("room") ?? "";
      const members = rooms.get(name) ?? rooms.set(name, new Set()).get(name)!;
      // hono/bun makes a new WSContext per event: keep the one from open, to find it at close.
      let self: WSContext | null = null;
      return {
        onOpen: (_event, ws) => {
          self = ws;
          members.add(ws);
        },
        onClose: () => void (self && members.delete(self)),
        onMessage: (event) => {
          const { text } = JSON.parse(String(event.data));
          const frame = JSON.stringify({ type: "chat.message", user: "anon", text });
          for (const member of members) member.send(frame);
        },
      };
    }),
  );
  const server = Bun.serve({ hostname, port, fetch: app.fetch, websocket });
  console.log(`listening on ${server.port}`);
} else if (typeof Deno !== "undefined") {
  Deno.serve(
    { hostname, port, onListen: (at: { port: number }) => console.log(`listening on ${at.port}`) },
    app.fetch,
  );
} else {
  const { serve } = await import("@hono/node-server");
  serve({ fetch: app.fetch, hostname, port }, (at) => console.log(`listening on ${at.port}`));
}
