/** Node adapter: `@hono/node-server` for HTTP, its built-in upgrade support with `ws` for sockets. */
import type { IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { type HttpBindings, serve as nodeServe, upgradeWebSocket } from "@hono/node-server";
import type { Context, Hono } from "hono";
import { type WebSocket, WebSocketServer } from "ws";
import type { Runtime, ServeOptions, Server, Upgrader } from "./runtime.ts";
import { serverUrl, toBytes } from "./runtime.ts";

// `ws` picks the subprotocol in a server-wide callback, after our handler has decided; the
// decision travels from one to the other on the request object.
const chosenSubprotocol = new WeakMap<IncomingMessage, string>();

const upgrade: Upgrader = async (c, options, events) => {
  const { incoming } = c.env as HttpBindings;
  if (options.subprotocol) chosenSubprotocol.set(incoming, options.subprotocol);
  const response = await upgradeWebSocket(c, {
    onOpen(_event, context) {
      const ws = context.raw as WebSocket;
      events.open({
        send: (data) => ws.send(data),
        close: (code, reason) => ws.close(code, reason),
        terminate: () => ws.terminate(),
        get bufferedAmount() {
          return ws.bufferedAmount;
        },
      });
    },
    onMessage(event) {
      events.message(typeof event.data === "string" ? event.data : toBytes(event.data as ArrayBuffer));
    },
    onClose(event) {
      events.close(event.code, event.reason);
    },
  });
  // @hono/node-server copies these onto the 101 response.
  for (const [name, value] of Object.entries(options.headers)) response.headers.set(name, value);
  return response;
};

async function serve(app: Hono, options: ServeOptions): Promise<Server> {
  const sockets = new WebSocketServer({
    noServer: true,
    ...(options.maxFrameBytes ? { maxPayload: options.maxFrameBytes } : {}),
    handleProtocols: (_offered, request) => chosenSubprotocol.get(request) ?? false,
  });
  const server = nodeServe({
    fetch: app.fetch,
    port: options.port,
    hostname: options.hostname,
    websocket: { server: sockets },
  });
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  });
  const { address, port } = server.address() as AddressInfo;
  return {
    url: serverUrl(address, port),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets.clients) socket.terminate();
        server.close(() => resolve());
        if ("closeAllConnections" in server) server.closeAllConnections();
      }),
  };
}

/** Node's adapter. */
export const runtime: Runtime = {
  name: "node",
  upgrade,
  client(c: Context) {
    const socket = (c.env as HttpBindings | undefined)?.incoming?.socket;
    return socket?.remoteAddress ? { address: socket.remoteAddress, port: socket.remotePort ?? 0 } : null;
  },
  serve,
};
