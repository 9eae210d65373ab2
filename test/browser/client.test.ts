/**
 * The browser client (`routes/_client.js`) against a stand-in WebSocket: reconnects after a drop
 * with a backoff, dispatches by type, queues while away, and `close()` ends it for good, even
 * while a reconnect is pending. The real-browser tests (browser.test.ts) cover a server restart.
 */
import { afterEach, beforeEach, describe, expect, it } from "bun:test";

class FakeSocket {
  static OPEN = 1;
  static CLOSED = 3;
  static made: FakeSocket[] = [];
  readyState = 0;
  sent: string[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((event: { data: string }) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  readonly url: URL;
  constructor(url: URL) {
    this.url = url;
    FakeSocket.made.push(this);
  }
  send(text: string) {
    this.sent.push(text);
  }
  close(code = 1000) {
    if (this.readyState === FakeSocket.CLOSED) return;
    this.readyState = FakeSocket.CLOSED;
    queueMicrotask(() => this.onclose?.({ code, reason: "" }));
  }
  /** The server's side of things. */
  open() {
    this.readyState = FakeSocket.OPEN;
    this.onopen?.();
  }
  drop(code = 1006) {
    this.readyState = FakeSocket.CLOSED;
    this.onclose?.({ code, reason: "" });
  }
}

const globals = globalThis as unknown as { WebSocket: unknown; location: unknown };
let saved: { WebSocket: unknown; location: unknown };
beforeEach(() => {
  saved = { WebSocket: globals.WebSocket, location: globals.location };
  globals.WebSocket = FakeSocket;
  globals.location = { href: "http://app.test/chat/lobby" };
  FakeSocket.made = [];
});
afterEach(() => {
  globals.WebSocket = saved.WebSocket;
  globals.location = saved.location;
});

// @ts-expect-error: plain browser JavaScript, typed here by what the pages use
const { connect } = (await import("../../routes/_client.js")) as {
  connect(path: string): {
    send(message: unknown): void;
    on(type: string, handler: (message: Record<string, unknown>) => void): () => void;
    onStatus(listener: (status: string, detail: Record<string, unknown>) => void): () => void;
    close(): void;
    readonly status: string;
  };
};

describe("the browser client", () => {
  it("opens a ws URL on the page's host, dispatches JSON by type and queues what is sent while away", async () => {
    const chat = connect("/chat/lobby?name=ada");
    const socket = FakeSocket.made[0]!;
    expect(socket.url.href).toBe("ws://app.test/chat/lobby?name=ada");
    chat.send({ text: "early" });
    socket.open();
    expect(socket.sent).toEqual(['{"text":"early"}']);
    const seen: unknown[] = [];
    chat.on("chat.message", (message) => seen.push(message));
    socket.onmessage?.({ data: '{"type":"chat.message","text":"hi"}' });
    socket.onmessage?.({ data: "not json" });
    socket.onmessage?.({ data: '{"type":"other"}' });
    expect(seen).toEqual([{ type: "chat.message", text: "hi" }]);
    chat.close();
  });

  it("reconnects after a drop, and not after a close the app chose (4000-4999)", async () => {
    const chat = connect("/chat/lobby");
    const statuses: string[] = [];
    chat.onStatus((status) => statuses.push(status));
    FakeSocket.made[0]!.open();
    FakeSocket.made[0]!.drop(1006);
    expect(chat.status).toBe("reconnecting");
    await Bun.sleep(700); // the first backoff is 0.5 s, +-25%
    expect(FakeSocket.made).toHaveLength(2);
    FakeSocket.made[1]!.open();
    FakeSocket.made[1]!.drop(4003);
    await Bun.sleep(700);
    expect(FakeSocket.made).toHaveLength(2);
    expect(statuses).toEqual(["connecting", "open", "reconnecting", "open", "closed"]);
  });

  it("close() while a reconnect is pending ends it: status closed, no new socket, no more messages", async () => {
    const chat = connect("/chat/lobby");
    const statuses: string[] = [];
    chat.onStatus((status) => statuses.push(status));
    FakeSocket.made[0]!.drop(1006);
    chat.close();
    await Bun.sleep(700);
    expect(FakeSocket.made).toHaveLength(1);
    expect(chat.status).toBe("closed");
    expect(statuses).toEqual(["connecting", "reconnecting", "closed"]);
  });
});
