/** The starter's basics: the health check answers and the echo consumer echoes. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { startApp } from "./_app.ts";

describe("the app", () => {
  it("answers GET /health", async () => {
    const { client } = await startApp();
    const response = await client.request("/health");
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { status: "ok", layer: "up" });
  });

  it("echoes text and bytes on /echo", async () => {
    const { client } = await startApp();
    const socket = await client.connect("/echo");
    assert.equal(socket.accepted, true);
    await socket.sendTo({ text: "hello" });
    assert.deepEqual(await socket.receiveFrom(), { text: "hello" });
    await socket.sendTo({ bytes: new Uint8Array([1, 2, 3]) });
    assert.deepEqual(await socket.receiveFrom(), { bytes: new Uint8Array([1, 2, 3]) });
    await socket.close();
  });
});
