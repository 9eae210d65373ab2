/**
 * The few Engine.IO v4 / Socket.IO v5 packets the load generator needs, over a raw WebSocket, so
 * the benchmark needs no socket.io-client (whose own costs would land in the load process):
 *
 *   server → `0{"sid":...}`   Engine.IO open          client → `40`        Socket.IO connect to "/"
 *   server → `40{"sid":...}`  connected to "/"        either → `42[name,data]`  an event
 *   server → `2`              ping                    client → `3`         pong
 *
 * Binary events, acknowledgements and namespaces other than "/" are not used by the benchmark.
 */

/** Appended to `ws://host:port`: a WebSocket from the start, no HTTP long-polling first. */
export const SOCKET_IO_PATH = "/socket.io/?EIO=4&transport=websocket";

/** What a frame from the server means to the client. */
export type Packet =
  | { kind: "open" }
  | { kind: "connected" }
  | { kind: "ping" }
  | { kind: "event"; body: string }
  | { kind: "other" };

/** `42["name",data]`: an event on the default namespace. */
export function eventFrame(name: string, data: unknown): string {
  return `42${JSON.stringify([name, data])}`;
}

/** The client's answer to the open packet: connect to the default namespace. */
export const CONNECT_FRAME = "40";
/** The client's answer to a ping. */
export const PONG_FRAME = "3";

/** `[name, data]` of an event's body (an acknowledgement id, when asked for, comes before the array). */
export function parseEvent(body: string): [string, unknown] {
  return JSON.parse(body.slice(body.indexOf("["))) as [string, unknown];
}

export function decode(frame: string): Packet {
  switch (frame[0]) {
    case "0":
      return { kind: "open" };
    case "2":
      return { kind: "ping" };
    case "4":
      if (frame[1] === "0") return { kind: "connected" };
      // Not parsed here: counting deliveries needs only the kind, and parsing every frame would
      // load the load generator's core more for Socket.IO than for the other servers.
      if (frame[1] === "2") return { kind: "event", body: frame.slice(2) };
      return { kind: "other" };
    default:
      return { kind: "other" };
  }
}
