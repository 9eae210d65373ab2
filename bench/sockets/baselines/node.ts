/** Baseline: raw Node `http` + `ws` with a hand-written room map. PORT from the environment. */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { type WebSocket, WebSocketServer } from "ws";

const rooms = new Map<string, Set<WebSocket>>();
const sockets = new WebSocketServer({ noServer: true });
const server = createServer((_request, response) => response.writeHead(400).end("not a socket"));

server.on("upgrade", (request, socket, head) => {
  sockets.handleUpgrade(request, socket, head, (ws) => {
    const path = request.url ?? "/";
    if (!path.startsWith("/chat/")) {
      ws.on("message", (data, binary) => ws.send(binary ? data : String(data)));
      return;
    }
    const name = path.slice(6);
    const members = rooms.get(name) ?? rooms.set(name, new Set()).get(name)!;
    members.add(ws);
    ws.on("close", () => members.delete(ws));
    ws.on("message", (data) => {
      const { text } = JSON.parse(String(data));
      const frame = JSON.stringify({ type: "chat.message", user: "anon", text });
      for (const member of members) member.send(frame);
    });
  });
});
server.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
  console.log(`listening on ${(server.address() as AddressInfo).port}`);
});
