/** Baseline: raw `Bun.serve`, echo and rooms through Bun's native publish. PORT from the environment. */
import type { ServerWebSocket } from "bun";

type Data = { room: string | null };

const server = Bun.serve<Data>({
  hostname: "127.0.0.1",
  port: Number(process.env.PORT ?? 0),
  fetch(request, server) {
    const path = new URL(request.url).pathname;
    const room = path.startsWith("/chat/") ? path.slice(6) : null;
    if (server.upgrade(request, { data: { room } })) return;
    return new Response("not a socket", { status: 400 });
  },
  websocket: {
    open(ws: ServerWebSocket<Data>) {
      if (ws.data.room) ws.subscribe(ws.data.room);
    },
    message(ws, message) {
      const room = ws.data.room;
      if (!room) return void ws.send(message);
      const { text } = JSON.parse(String(message));
      // server.publish (unlike ws.publish) reaches the sender too, as a chat member should.
      server.publish(room, JSON.stringify({ type: "chat.message", user: "anon", text }));
    },
  },
});
console.log(`listening on ${server.port}`);
