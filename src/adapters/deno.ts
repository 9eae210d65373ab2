/** Deno adapter: `Deno.serve` and `Deno.upgradeWebSocket`. */
import type { Context, Hono } from "hono";
import type { Runtime, ServeOptions, Server, Upgrader } from "./runtime.ts";
import { reportedCloseCode, serverUrl, toBytes } from "./runtime.ts";

// Deno's own type library is not on npm; these are the only Deno APIs this file calls.
interface DenoAddr {
  hostname: string;
  port: number;
}
interface DenoServeInfo {
  remoteAddr: DenoAddr;
}
interface DenoHttpServer {
  addr: DenoAddr;
  shutdown(): Promise<void>;
}
declare const Deno: {
  serve(
    options: { port: number; hostname: string; onListen?: (addr: DenoAddr) => void },
    handler: (request: Request, info: DenoServeInfo) => Response | Promise<Response>,
  ): DenoHttpServer;
  upgradeWebSocket(
    request: Request,
    options?: { protocol?: string },
  ): { socket: WebSocket; response: Response };
};

const upgrade: Upgrader = (c, options, events) => {
  const { socket, response } = Deno.upgradeWebSocket(
    c.req.raw,
    options.subprotocol ? { protocol: options.subprotocol } : {},
  );
  for (const [name, value] of Object.entries(options.headers)) response.headers.set(name, value);
  socket.binaryType = "arraybuffer";
  socket.onopen = () =>
    events.open({
      send: (data) => socket.send(data),
      close: (code, reason) => socket.close(code, reason),
      get bufferedAmount() {
        return socket.bufferedAmount;
      },
    });
  socket.onmessage = (event) => {
    events.message(typeof event.data === "string" ? event.data : toBytes(event.data as ArrayBuffer));
  };
  // A dropped TCP connection closes with code 0 here (1006 on Bun and Node): report it as 1006.
  socket.onclose = (event) => events.close(reportedCloseCode(event.code), event.reason);
  return response;
};

async function serve(app: Hono, options: ServeOptions): Promise<Server> {
  const server = Deno.serve(
    { port: options.port, hostname: options.hostname, onListen: () => {} },
    (request, info) => app.fetch(request, info),
  );
  const { hostname, port } = server.addr;
  return {
    url: serverUrl(hostname, port),
    close: () => server.shutdown(),
  };
}

/** Deno's adapter. */
export const runtime: Runtime = {
  name: "deno",
  upgrade,
  client(c: Context) {
    const address = (c.env as DenoServeInfo | undefined)?.remoteAddr;
    return address ? { address: address.hostname, port: address.port } : null;
  },
  serve,
};
