/**
 * Issue 13, item 5: one deeply nested POST /api/updates must not disconnect every dashboard. The
 * shipped views, middleware and consumer, on one in-memory layer, driven without a server.
 */
import { describe, expect, it } from "bun:test";
import LiveDashboard from "../consumers/live.ts";
import authMiddleware from "../routes/_middleware.ts";
import * as login from "../routes/api/login.ts";
import * as updates from "../routes/api/updates.ts";
import {
  createApp,
  getSettings,
  InMemoryChannelLayer,
  issueToken,
  WebsocketCommunicator,
} from "../src/index.ts";

/** The shipped POST /api/updates behind the shipped token auth, plus two open dashboards. */
async function dashboards() {
  const layer = new InMemoryChannelLayer();
  const app = createApp({
    manifest: {
      routes: [
        { file: "_middleware.ts", module: { default: authMiddleware } },
        { file: "api/updates.ts", module: updates },
      ],
      consumers: [],
    },
    layer,
  });
  const token = await issueToken({ id: "editor", name: "editor" }, getSettings().secretKey);
  const post = (body: string) =>
    app.request("/api/updates", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body,
    });
  const live = [
    new WebsocketCommunicator(LiveDashboard, { path: "/live", layer }),
    new WebsocketCommunicator(LiveDashboard, { path: "/live", layer }),
  ];
  for (const dashboard of live) expect((await dashboard.connect()).accepted).toBe(true);
  return { post, live };
}

describe("POST /api/updates with a deeply nested body", () => {
  it("answers 400 INVALID_JSON and every dashboard stays connected for the next update", async () => {
    const { post, live } = await dashboards();
    const deep = `${"[".repeat(2500)}${"]".repeat(2500)}`;

    const refused = await post(`{"topic":"x","data":${deep}}`);
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ error: "INVALID_JSON" });
    for (const dashboard of live) expect(await dashboard.receiveNothing(50)).toBe(true);

    const accepted = await post(JSON.stringify({ topic: "orders", data: { n: 1 } }));
    expect(accepted.status).toBe(202);
    for (const dashboard of live) {
      expect(await dashboard.receiveJsonFrom()).toEqual({
        type: "live.update",
        topic: "orders",
        data: { n: 1 },
        at: expect.any(String),
      });
      expect(dashboard.errors).toEqual([]);
    }
    for (const dashboard of live) await dashboard.disconnect();
  });

  it("still delivers a body nested exactly MAX_JSON_DEPTH deep", async () => {
    const { post, live } = await dashboards();
    // The body object is one level; `data` takes the rest.
    const inner = getSettings().maxJsonDepth - 1;
    const data = JSON.parse(`${"[".repeat(inner)}${"]".repeat(inner)}`);
    const accepted = await post(JSON.stringify({ topic: "deep", data }));
    expect(accepted.status).toBe(202);
    for (const dashboard of live) {
      expect(await dashboard.receiveJsonFrom()).toMatchObject({ type: "live.update", topic: "deep", data });
      await dashboard.disconnect();
    }
  });
});

describe("POST /api/login with a bad body", () => {
  const app = createApp({
    manifest: { routes: [{ file: "api/login.ts", module: login }], consumers: [] },
    layer: new InMemoryChannelLayer(),
  });
  const post = (body: string) => app.request("/api/login", { method: "POST", body });

  it.each([
    ["not JSON", "{name: ada}"],
    ["nested 2,500 deep", `{"name":${"[".repeat(2500)}${"]".repeat(2500)}}`],
  ])("answers a body that is %s with 400 INVALID_JSON", async (_what, body) => {
    const response = await post(body);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: "INVALID_JSON" });
  });

  it("still signs a token for a good body", async () => {
    const response = await post(JSON.stringify({ name: "ada" }));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ token: expect.any(String) });
  });
});
