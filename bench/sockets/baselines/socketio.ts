/**
 * Baseline: Socket.IO 4 on Node, the server most chat apps start from. Rooms by the `room` query
 * parameter; a `chat` event goes to the whole room (sender included) as `chat.message`; an `echo`
 * event comes back. With `REDIS_URL` it uses `@socket.io/redis-adapter` (the private Redis the
 * benchmark starts), else the default in-memory adapter. `/health` answers a small JSON, as ours
 * does, for the fairness probe. PORT from the environment.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createAdapter } from "@socket.io/redis-adapter";
import { Redis } from "ioredis";
import { Server } from "socket.io";

const http = createServer((request, response) => {
  if (request.url === "/health") {
    response.writeHead(200, { "content-type": "application/json" }).end('{"status":"ok","layer":"up"}');
  } else response.writeHead(404).end();
});
// WebSocket only: the load generator never long-polls, so the upgrade dance is not measured.
const io = new Server(http, { transports: ["websocket"], serveClient: false });
const url = process.env.REDIS_URL;
if (url) {
  const publisher = new Redis(url);
  io.adapter(createAdapter(publisher, publisher.duplicate()));
}

io.on("connection", (socket) => {
  const room = socket.handshake.query.room;
  socket.on("echo", (data: unknown) => socket.emit("echo", data));
  if (typeof room !== "string") return;
  socket.join(room);
  socket.on("chat", ({ text }: { text: string }) =>
    io.to(room).emit("chat.message", { type: "chat.message", user: "anon", text }),
  );
});

http.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
  console.log(`listening on ${(http.address() as AddressInfo).port}`);
});
