/** Baseline: raw `Deno.serve` with a hand-written room map. PORT from the environment. */
// biome-ignore lint/suspicious/noExplicitAny: Deno's types are not on npm; these are the calls used.
declare const Deno: any;

const rooms = new Map<string, Set<WebSocket>>();

Deno.serve(
  {
    hostname: "127.0.0.1",
    port: Number(Deno.env.get("PORT") ?? 0),
    onListen: ({ port }: { port: number }) => console.log(`listening on ${port}`),
  },
  (request: Request) => {
    const path = new URL(request.url).pathname;
    // As the Bun and Node baselines do: a plain request (the burst's /health probe) is refused, not an error.
    if (request.headers.get("upgrade") !== "websocket") return new Response("not a socket", { status: 400 });
    const { socket, response } = Deno.upgradeWebSocket(request);
    const ws = socket as WebSocket;
    if (!path.startsWith("/chat/")) {
      ws.onmessage = (event) => ws.send(event.data);
      return response;
    }
    const name = path.slice(6);
    const members = rooms.get(name) ?? rooms.set(name, new Set()).get(name)!;
    ws.onopen = () => members.add(ws);
    ws.onclose = () => members.delete(ws);
    ws.onmessage = (event) => {
      const { text } = JSON.parse(event.data);
      const frame = JSON.stringify({ type: "chat.message", user: "anon", text });
      for (const member of members) member.send(frame);
    };
    return response;
  },
);
