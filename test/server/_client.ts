/** A promise-based WebSocket client for tests: await the next message, await the close. */
import { wsFrame } from "./_raw-socket.ts";

/** A message as received: text, or binary as bytes. */
export type Received = string | Uint8Array;

/** A connected test client. */
export interface TestSocket {
  socket: WebSocket;
  /** The next message not yet taken. */
  next(timeoutMs?: number): Promise<Received>;
  /** The next message, parsed as JSON; fails if it is binary. */
  nextJson(timeoutMs?: number): Promise<unknown>;
  /**
   * Waits `ms` and resolves true if no message arrived meanwhile (nor was already waiting), like
   * Channels' `receive_nothing`. Takes nothing from the inbox.
   */
  receiveNothing(ms?: number): Promise<boolean>;
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
  /** Resolves with the close event's code and reason. */
  closed: Promise<{ code: number; reason: string }>;
}

/**
 * Opens a socket and resolves once it is open; rejects if the handshake fails. `headers` uses Bun's
 * client extension (browsers cannot set handshake headers).
 */
export function connect(
  url: string,
  protocols: string[] = [],
  headers?: Record<string, string>,
): Promise<TestSocket> {
  // Bun's WebSocket takes { protocols, headers } where the standard takes protocols only.
  const options = headers ? ({ protocols, headers } as unknown as string[]) : protocols;
  const socket = new WebSocket(url, options);
  socket.binaryType = "arraybuffer";
  const inbox: Received[] = [];
  const waiting: Array<(message: Received) => void> = [];
  socket.onmessage = (event) => {
    const message = typeof event.data === "string" ? event.data : new Uint8Array(event.data as ArrayBuffer);
    const taker = waiting.shift();
    if (taker) taker(message);
    else inbox.push(message);
  };
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    socket.addEventListener("close", (event) => resolve({ code: event.code, reason: event.reason }));
  });
  const next = (timeoutMs = 5000): Promise<Received> => {
    const queued = inbox.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise((resolveMessage, rejectMessage) => {
      const timer = setTimeout(
        () => rejectMessage(new Error(`no message within ${timeoutMs} ms`)),
        timeoutMs,
      );
      waiting.push((message) => {
        clearTimeout(timer);
        resolveMessage(message);
      });
    });
  };
  return new Promise((resolve, reject) => {
    socket.onopen = () =>
      resolve({
        socket,
        closed,
        send: (data) => socket.send(data),
        close: (code, reason) => socket.close(code, reason),
        next,
        nextJson: async (timeoutMs) => {
          const message = await next(timeoutMs);
          if (typeof message !== "string")
            throw new Error(`expected a JSON text frame, got ${message.length} bytes`);
          return JSON.parse(message);
        },
        receiveNothing: async (ms = 200) => {
          await new Promise((resolveWait) => setTimeout(resolveWait, ms));
          return inbox.length === 0;
        },
      });
    socket.onerror = () => reject(new Error(`WebSocket to ${url} failed to open`));
  });
}

/** One request/answer on a fresh socket, as a client that plays by the rules. */
export async function roundTrip(url: string, data: string | Uint8Array): Promise<string | Uint8Array> {
  const socket = new WebSocket(url);
  socket.binaryType = "arraybuffer";
  try {
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer from ${url}`)), 5000);
      socket.addEventListener("open", () => socket.send(data));
      socket.addEventListener("message", (event) => {
        clearTimeout(timer);
        resolve(typeof event.data === "string" ? event.data : new Uint8Array(event.data as ArrayBuffer));
      });
      socket.addEventListener("error", () => reject(new Error(`${url} failed`)));
    });
  } finally {
    socket.close(1000);
  }
}

/**
 * Handshake headers: a record, or name/value pairs where a name must repeat (two keys). A name
 * given here replaces the default handshake header of that name instead of adding a second one.
 */
export type HandshakeHeaders = Record<string, string> | ReadonlyArray<readonly [string, string]>;

/** Handshake headers as name/value pairs, in order (for `fetch`, or to write them out). */
export function headerPairs(headers: HandshakeHeaders): Array<[string, string]> {
  const pairs: ReadonlyArray<readonly [string, string]> = Array.isArray(headers)
    ? headers
    : Object.entries(headers);
  return pairs.map(([name, value]) => [name, value]);
}

/** The status and headers of a raw WebSocket handshake: what the client sees before any frame. */
export async function handshake(
  url: URL,
  path: string,
  headers: HandshakeHeaders = {},
): Promise<{ status: number; headers: Record<string, string> }> {
  const { connect: tcpConnect } = await import("node:net");
  const given = headerPairs(headers);
  const named = new Set(given.map(([name]) => name.toLowerCase()));
  const defaults: Array<[string, string]> = [
    ["Host", url.host],
    ["Upgrade", "websocket"],
    ["Connection", "Upgrade"],
    ["Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="],
    ["Sec-WebSocket-Version", "13"],
  ];
  const lines = [
    `GET ${path} HTTP/1.1`,
    ...[...defaults.filter(([name]) => !named.has(name.toLowerCase())), ...given].map(
      ([name, value]) => `${name}: ${value}`,
    ),
  ];
  return new Promise((resolve, reject) => {
    let received = "";
    const socket = tcpConnect(Number(url.port), url.hostname, () =>
      socket.write(`${lines.join("\r\n")}\r\n\r\n`),
    );
    // A server that drops the connection without an answer must fail the test, not hang it.
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no handshake answer for ${path} within 5000 ms`));
    }, 5000);
    socket.on("data", (chunk: Buffer) => {
      received += chunk.toString("latin1");
      const end = received.indexOf("\r\n\r\n");
      if (end === -1) return;
      clearTimeout(timer);
      socket.destroy();
      const [statusLine = "", ...headerLines] = received.slice(0, end).split("\r\n");
      const parsed: Record<string, string> = {};
      for (const line of headerLines) {
        const colon = line.indexOf(":");
        parsed[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      resolve({ status: Number(statusLine.split(" ")[1]), headers: parsed });
    });
    socket.on("close", () => {
      clearTimeout(timer);
      reject(new Error(`connection closed before a handshake answer for ${path}`));
    });
    socket.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/** A client frame: FIN + opcode, masked as clients must mask (RFC 6455 5.3). */
export function maskedFrame(opcode: number, payload: Uint8Array): Uint8Array {
  return wsFrame(opcode, payload);
}

/**
 * A WebSocket client over a raw TCP socket, for what a well-behaved client never does: stop
 * reading (`pause()`), or send frames a browser would refuse to build.
 */
export async function rawSocket(url: URL, path: string) {
  const { connect: tcpConnect } = await import("node:net");
  const socket = tcpConnect(Number(url.port), url.hostname);
  let received = 0;
  const ended = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.once("connect", () => {
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: ${url.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
      );
      socket.once("data", (chunk: Buffer) => {
        received += chunk.byteLength;
        if (chunk.toString("latin1").startsWith("HTTP/1.1 101")) resolve();
        else reject(new Error(`handshake refused: ${chunk.toString("latin1").split("\r\n")[0]}`));
      });
    });
  });
  socket.on("data", (chunk: Buffer) => {
    received += chunk.byteLength;
  });
  socket.on("error", () => {});
  return {
    sendText: (text: string) => socket.write(maskedFrame(0x1, new TextEncoder().encode(text))),
    sendRaw: (frame: Uint8Array) => socket.write(frame),
    /** Stops reading: the kernel buffers fill and the server's writes back up. */
    pause: () => socket.pause(),
    resume: () => socket.resume(),
    /** Bytes read so far. */
    received: () => received,
    ended,
    destroy: () => socket.destroy(),
  };
}
