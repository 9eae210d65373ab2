import { describe, expect, it } from "bun:test";
import { Hono } from "hono";
import { sign } from "hono/jwt";
import type { JWTPayload } from "hono/utils/jwt/types";
import { issueToken, type TokenAuthOptions, tokenAuth, verifyToken } from "../../src/security/auth.ts";

const SECRET = "unit-test-secret-0123456789abcdef0123";

function app(options: Partial<TokenAuthOptions> = {}) {
  return new Hono()
    .use(tokenAuth({ secret: SECRET, ...options }))
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

  it('reads the header and query parameter it is told to (`header: "token"`, as some clients send it)', async () => {
    const token = await issueToken({ id: "7", name: "ada" }, SECRET);
    const custom = app({ header: "token", query: "access_token" });
    for (const headers of [{ token }, { token: `Bearer ${token}` }]) {
      expect(await (await custom.request("/", { headers })).json()).toEqual({
        user: { id: "7", name: "ada" },
      });
    }
    expect(await (await custom.request(`/?access_token=${token}`)).json()).toEqual({
      user: { id: "7", name: "ada" },
    });
    // The defaults are no longer read: a token there is not this app's credential.
    expect(await (await custom.request(`/?token=${token}`)).json()).toEqual({ user: null });
    const malformed = await custom.request("/", { headers: { token: "two words" } });
    expect(malformed.status).toBe(401);
    expect(await malformed.json()).toMatchObject({
      error: "INVALID_CREDENTIALS",
      message: expect.stringContaining("token: <token>"),
    });
    const noQuery = app({ query: false });
    expect(await (await noQuery.request(`/?token=${token}`)).json()).toEqual({ user: null });
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

describe("verifyToken() and expiry", () => {
  it("refuses a correctly signed token without exp, or with an exp that is not a number", async () => {
    const payloads: Array<Record<string, unknown>> = [
      { sub: "7", name: "ada" },
      { sub: "7", name: "ada", exp: "9999999999" },
    ];
    for (const payload of payloads) {
      expect(await verifyToken(await sign(payload as JWTPayload, SECRET, "HS256"), SECRET)).toBeNull();
    }
  });

  it("accepts a token without exp only when told to (allowNoExpiry)", async () => {
    const endless = await sign({ sub: "7", name: "ada" }, SECRET, "HS256");
    expect(await verifyToken(endless, SECRET, { allowNoExpiry: true })).toEqual({ id: "7", name: "ada" });
    // Still checked when present.
    const expired = await issueToken({ id: "7", name: "ada" }, SECRET, -1);
    expect(await verifyToken(expired, SECRET, { allowNoExpiry: true })).toBeNull();
  });
});

describe("tokenAuth() and tokens without expiry", () => {
  it("answers 401 to a header or query token without exp, and treats such a cookie as stale", async () => {
    const endless = await sign({ sub: "7", name: "ada" }, SECRET, "HS256");
    const cases: Array<{ path: string; headers: Record<string, string> }> = [
      { path: "/", headers: { Authorization: `Bearer ${endless}` } },
      { path: `/?token=${endless}`, headers: {} },
    ];
    for (const init of cases) {
      const response = await app().request(init.path, { headers: init.headers });
      expect(response.status).toBe(401);
      expect(await response.json()).toMatchObject({ error: "INVALID_TOKEN" });
    }
    const cookie = await app().request("/", { headers: { Cookie: `session=${endless}` } });
    expect(await cookie.json()).toEqual({ user: null });
    expect(cookie.headers.get("set-cookie")).toMatch(/^session=;/);
  });

  it("accepts them with allowNoExpiry: true", async () => {
    const endless = await sign({ sub: "7", name: "ada" }, SECRET, "HS256");
    const lenient = new Hono()
      .use(tokenAuth({ secret: SECRET, allowNoExpiry: true }))
      .get("/", (c) => c.json({ user: (c.var as { user?: unknown }).user ?? null }));
    const response = await lenient.request("/", { headers: { Authorization: `Bearer ${endless}` } });
    expect(await response.json()).toEqual({ user: { id: "7", name: "ada" } });
  });
});

describe("tokenAuth() and malformed or conflicting credentials", () => {
  /** The app, counting the requests that reached the handler. */
  function counted() {
    const reached = { count: 0 };
    const counting = new Hono().use(tokenAuth({ secret: SECRET })).get("/", (c) => {
      reached.count++;
      return c.json({ user: (c.var as { user?: unknown }).user ?? null });
    });
    return { app: counting, reached };
  }

  it("answers 401 INVALID_CREDENTIALS before the handler, whatever the session cookie says", async () => {
    const token = await issueToken({ id: "7", name: "ada" }, SECRET);
    const other = await issueToken({ id: "8", name: "bob" }, SECRET);
    const cookie = `session=${token}`;
    const twoHeaders = new Headers({ Cookie: cookie });
    twoHeaders.append("Authorization", `Bearer ${token}`);
    twoHeaders.append("Authorization", `Bearer ${other}`);
    const cases: Array<{ path: string; headers: HeadersInit }> = [
      { path: "/", headers: { Authorization: "Bearer a b", Cookie: cookie } },
      { path: "/", headers: twoHeaders },
      { path: "/", headers: { Authorization: `Basic ${btoa("ada:secret")}`, Cookie: cookie } },
      { path: "/", headers: { Authorization: "Bearer", Cookie: cookie } },
      { path: "/", headers: { Authorization: `Token ${token}`, Cookie: cookie } },
      { path: "/", headers: { Authorization: "", Cookie: cookie } },
      { path: "/?token=a%20b", headers: { Cookie: cookie } },
      { path: "/?token=", headers: { Cookie: cookie } },
      { path: `/?token=${token}&token=${other}`, headers: {} },
      { path: `/?token=${other}`, headers: { Authorization: `Bearer ${token}` } },
    ];
    const { app: counting, reached } = counted();
    for (const init of cases) {
      const response = await counting.request(init.path, { headers: init.headers });
      expect(response.status).toBe(401);
      expect(await response.json()).toMatchObject({ error: "INVALID_CREDENTIALS" });
    }
    expect(reached.count).toBe(0);
  });

  it("accepts the same token in the header and the query", async () => {
    const token = await issueToken({ id: "7", name: "ada" }, SECRET);
    const { app: counting } = counted();
    const response = await counting.request(`/?token=${token}`, {
      headers: { Authorization: `bearer  ${token}` },
    });
    expect(await response.json()).toEqual({ user: { id: "7", name: "ada" } });
  });
});
