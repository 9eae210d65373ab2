/** A promise-based WebSocket client for tests: await the next message, await the close. */

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

/** Opens a socket and resolves once it is open; rejects if the handshake fails. */
export function connect(url: string, protocols: string[] = []): Promise<TestSocket> {
  const socket = new WebSocket(url, protocols);
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
