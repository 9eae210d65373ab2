import { describe, expect, it } from "bun:test";
import { Consumer, createApp } from "../../src/index.ts";

const KEY = "dGhlIHNhbXBsZSBub25jZQ==";

/** An app with one consumer at /echo that counts the instances made and the connects run. */
function countingApp() {
  const ran = { constructed: 0, connected: 0, upgraded: 0 };
  class Counted extends Consumer {
    override groups = ["counted"];
    constructor(...args: ConstructorParameters<typeof Consumer>) {
      super(...args);
      ran.constructed++;
    }
    override async connect() {
      ran.connected++;
      await this.accept();
    }
  }
  const app = createApp({
    manifest: { routes: [], consumers: [{ file: "echo.ts", module: { default: Counted } }] },
    runtime: {
      upgrade: () => {
        ran.upgraded++;
        return new Response(null, { status: 101 });
      },
      client: () => null,
    },
  });
  return { app, ran };
}

function upgradeHeaders(key: string | null, connection = "Upgrade"): Headers {
  const headers = new Headers({
    Upgrade: "websocket",
    Connection: connection,
    "Sec-WebSocket-Version": "13",
  });
  if (key !== null) headers.set("Sec-WebSocket-Key", key);
  return headers;
}

describe("upgrade handshake: Sec-WebSocket-Key", () => {
  it.each([
    ["a short key", "abc"],
    ["the base64 of 12 bytes", Buffer.alloc(12, 7).toString("base64")],
    ["the base64 of 17 bytes", Buffer.alloc(17, 7).toString("base64")],
    ["24 characters that are not base64", "!!!not-base64-at-all!!=="],
    ["base64url instead of base64", "__________-_________-A=="],
    ["two keys, as a Headers object joins them", `${KEY}, AAAAAAAAAAAAAAAAAAAAAA==`],
    ["an empty key", ""],
  ])("answers 400 to %s, before any consumer code", async (_name, key) => {
    const { app, ran } = countingApp();
    const response = await app.request("/echo", { headers: upgradeHeaders(key) });
    expect(response.status).toBe(400);
    expect(ran).toEqual({ constructed: 0, connected: 0, upgraded: 0 });
  });

  it("answers 400 to a Connection header that does not name Upgrade, before any consumer code", async () => {
    const { app, ran } = countingApp();
    for (const connection of ["keep-alive", "close", "upgraded"]) {
      expect((await app.request("/echo", { headers: upgradeHeaders(KEY, connection) })).status).toBe(400);
    }
    expect(ran).toEqual({ constructed: 0, connected: 0, upgraded: 0 });
    // Firefox sends both tokens.
    expect((await app.request("/echo", { headers: upgradeHeaders(KEY, "keep-alive, Upgrade") })).status).toBe(
      101,
    );
  });

  it("runs the consumer for the base64 of 16 bytes", async () => {
    const { app, ran } = countingApp();
    for (const key of [KEY, Buffer.alloc(16, 255).toString("base64")]) {
      expect((await app.request("/echo", { headers: upgradeHeaders(key) })).status).toBe(101);
    }
    expect(ran).toEqual({ constructed: 2, connected: 2, upgraded: 2 });
  });
});
