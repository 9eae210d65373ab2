/** The starter's chat room and dashboard, through the app's own middleware, views and consumers. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { getSettings, issueToken } from "hono-channels";
import { startApp } from "./_app.ts";

describe("the chat", () => {
  it("carries a message to every member of the room, and not to another room", async () => {
    const { client } = await startApp();
    const ada = await client.connect("/chat/lobby?name=ada");
    const bob = await client.connect("/chat/lobby?name=bob");
    const elsewhere = await client.connect("/chat/other?name=eve");
    await ada.sendJsonTo({ text: "hi all" });
    for (const member of [ada, bob]) {
      assert.deepEqual(await member.receiveJsonFrom(), { type: "chat.message", user: "ada", text: "hi all" });
    }
    assert.equal(await elsewhere.receiveNothing(50), true);
    for (const socket of [ada, bob, elsewhere]) await socket.close();
  });
});

describe("the dashboard", () => {
  it("shows an update a logged-in user posts, and refuses one from nobody", async () => {
    const { client } = await startApp();
    const dashboard = await client.connect("/live");
    const anonymous = await client.request("/api/updates", {
      method: "POST",
      body: JSON.stringify({ topic: "orders", data: 1 }),
    });
    assert.equal(anonymous.status, 401);
    const token = await issueToken({ id: "ada", name: "ada" }, getSettings().secretKey);
    const posted = await client.request("/api/updates", {
      method: "POST",
      headers: { authorization: `Bearer ${token}` },
      body: JSON.stringify({ topic: "orders", data: 42 }),
    });
    assert.equal(posted.status, 202);
    const update = (await dashboard.receiveJsonFrom()) as Record<string, unknown>;
    assert.equal(update.type, "live.update");
    assert.equal(update.topic, "orders");
    assert.equal(update.data, 42);
    await dashboard.close();
  });
});
