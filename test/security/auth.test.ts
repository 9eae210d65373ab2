import { describe, expect, it } from "bun:test";
import { Hono } from "hono";
import { sign } from "hono/jwt";
import { issueToken, tokenAuth, verifyToken } from "../../src/security/auth.ts";

const SECRET = "unit-test-secret-0123456789abcdef0123";

function app() {
  return new Hono()
    .use(tokenAuth({ secret: SECRET }))
    .get("/", (c) => c.json({ user: (c.var as { user?: unknown }).user ?? null }));
}

describe("verifyToken()", () => {
  it("returns the user a fresh token names", async () => {
    expect(await verifyToken(await issueToken({ id: "7", name: "ada" }, SECRET), SECRET)).toEqual({
      id: "7",
      name: "ada",
    });
  });

  it("refuses an expired, a tampered, a foreign-key and a malformed token", async () => {
    const token = await issueToken({ id: "7", name: "ada" }, SECRET);
    const [header, payload, signature] = token.split(".");
    const tamperedPayload = Buffer.from(JSON.stringify({ sub: "1", name: "root", exp: 9e9 })).toString(
      "base64url",
    );
    for (const bad of [
      await issueToken({ id: "7", name: "ada" }, SECRET, -1),
      `${header}.${tamperedPayload}.${signature}`,
      `${header}.${payload}.${signature?.slice(0, -2)}xx`,
      await issueToken({ id: "7", name: "ada" }, "some-other-secret-0123456789abcdef"),
      "not-a-token",
      await sign({ name: "no subject" }, SECRET, "HS256"),
    ]) {
      expect(await verifyToken(bad, SECRET)).toBeNull();
    }
  });

  it("refuses an unsigned token (alg none)", async () => {
    const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString("base64url")}.${Buffer.from('{"sub":"1"}').toString("base64url")}.`;
    expect(await verifyToken(none, SECRET)).toBeNull();
  });
});

describe("tokenAuth()", () => {
  it("reads the token from the Authorization header, the token query parameter or the session cookie", async () => {
    const token = await issueToken({ id: "7", name: "ada" }, SECRET);
    const cases: Array<{ path: string; headers: Record<string, string> }> = [
      { path: "/", headers: { Authorization: `Bearer ${token}` } },
      { path: `/?token=${token}`, headers: {} },
      { path: "/", headers: { Cookie: `session=${token}` } },
    ];
    for (const init of cases) {
      const response = await app().request(init.path, { headers: init.headers });
      expect(await response.json()).toEqual({ user: { id: "7", name: "ada" } });
    }
  });

  it("lets a request without a token through as anonymous", async () => {
    expect(await (await app().request("/")).json()).toEqual({ user: null });
  });

  it("answers 401 to a bad token before the handler runs", async () => {
    const response = await app().request("/?token=forged.token.value");
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: "INVALID_TOKEN" });
  });
});

describe("tokenAuth() and the session cookie", () => {
  it("treats a stale session cookie as logged out and clears it, instead of refusing the request", async () => {
    const stale = await issueToken({ id: "7", name: "ada" }, "the-key-before-a-restart-0123456789ab");
    const response = await app().request("/", { headers: { Cookie: `session=${stale}` } });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ user: null });
    expect(response.headers.get("set-cookie")).toMatch(/^session=;.*Max-Age=0/);
  });
});
