/**
 * `TestClient` on the shipped app: token middleware, views and consumers together, no server.
 */
import { describe, expect, it } from "bun:test";
import { join } from "node:path";
import { getSettings, InMemoryChannelLayer, issueToken, TestClient } from "../../src/index.ts";
import { scanProject } from "../../src/integration.ts";

const root = join(import.meta.dir, "..", "..");
const manifest = await scanProject(root);
const tokenFor = (name: string) => issueToken({ id: name, name }, getSettings().secretKey);

describe("TestClient", () => {
  it("runs the token middleware before a consumer: 401 without a user, the user's own data with one", async () => {
    const client = new TestClient({ manifest, layer: new InMemoryChannelLayer() });
    const anonymous = await client.connect("/me");
    expect(anonymous.accepted).toBe(false);
    expect(anonymous.status).toBe(401);
    const tampered = await client.connect("/me", { headers: { authorization: "Bearer not.a.token" } });
    expect(tampered.status).toBe(401);

    const me = await client.connect("/me", { headers: { authorization: `Bearer ${await tokenFor("ada")}` } });
    expect(me.accepted).toBe(true);
    expect(await me.receiveJsonFrom()).toEqual({ type: "me", user: { id: "ada", name: "ada" } });
    await me.close();
  });

  it("carries a view's group send to every connected dashboard, and leaves the group on close", async () => {
    const layer = new InMemoryChannelLayer();
    const client = new TestClient({ manifest, layer });
    const dashboards = [await client.connect("/live"), await client.connect("/live")];
    expect(layer.groupChannels("live")).toHaveLength(2);

    const response = await client.request("/api/updates", {
      method: "POST",
      headers: { authorization: `Bearer ${await tokenFor("editor")}`, "content-type": "application/json" },
      body: JSON.stringify({ topic: "orders", data: { n: 1 } }),
    });
    expect(response.status).toBe(202);
    for (const dashboard of dashboards) {
      expect(await dashboard.receiveJsonFrom()).toMatchObject({
        type: "live.update",
        topic: "orders",
        data: { n: 1 },
      });
    }
    for (const dashboard of dashboards) await dashboard.close();
    expect(layer.groupChannels("live")).toEqual([]);
  });

  it("applies the origin check and reports a server-side close, which ends the connection", async () => {
    const layer = new InMemoryChannelLayer();
    const client = new TestClient({
      manifest,
      layer,
      production: true,
      allowedOrigins: ["https://app.example.com"],
    });
    expect((await client.connect("/echo", { headers: { origin: "https://evil.example" } })).status).toBe(403);

    const chat = await client.connect("/chat/lobby", { headers: { origin: "https://app.example.com" } });
    expect(chat.accepted).toBe(true);
    await chat.sendTo({ text: "not json" });
    expect(await chat.receiveJsonFrom()).toMatchObject({ type: "error", code: "INVALID_JSON" });
    expect((await chat.receiveClose()).code).toBe(1007);
    // The client answered the close, so the consumer's disconnect ran and the room is left.
    for (let i = 0; i < 50 && layer.groupChannels("chat.lobby").length > 0; i++) await Bun.sleep(5);
    expect(layer.groupChannels("chat.lobby")).toEqual([]);
  });

  it("echoes frames both ways through the runtime-neutral runner", async () => {
    const client = new TestClient({ manifest, layer: new InMemoryChannelLayer() });
    const echo = await client.connect("/echo");
    await echo.sendTo({ text: "hi" });
    await echo.sendTo({ bytes: new Uint8Array([1, 2, 3]) });
    expect(await echo.receiveFrom()).toEqual({ text: "hi" });
    expect(await echo.receiveFrom()).toEqual({ bytes: new Uint8Array([1, 2, 3]) });
    expect(await echo.receiveNothing()).toBe(true);
    await echo.close();
  });
});
