import { describe, expect, it } from "bun:test";
import { type Context, Hono } from "hono";
import { createScope, type Scope, scopeFromContext } from "../../src/consumer/scope.ts";

/** The scope a real upgrade request would give, built from a Hono context as the upgrade handler does. */
async function scopeOf(
  path: string,
  headers: Record<string, string> = {},
  state: Record<string, unknown> = {},
) {
  const app = new Hono();
  let scope: Scope | null = null;
  const capture = (c: Context) => {
    for (const [key, value] of Object.entries(state)) c.set(key as never, value as never);
    scope = scopeFromContext(c, { address: "127.0.0.1", port: 5000 });
    return c.text("ok");
  };
  app.get("/room/:name", capture);
  app.get("/plain", capture);
  await app.request(path, { headers });
  return scope as unknown as Scope;
}

describe("scopeFromContext()", () => {
  it("gives a request without query, cookies, state, params or subprotocols empty ones that keep what is put in them", async () => {
    const scope = await scopeOf("/plain");
    expect(scope.type).toBe("websocket");
    expect(scope.path).toBe("/plain");
    expect(scope.params).toEqual({});
    expect([...scope.query]).toEqual([]);
    expect(scope.cookies).toEqual({});
    expect(scope.state).toEqual({});
    expect(scope.subprotocols).toEqual([]);
    expect(scope.user).toBeNull();
    // Built on first read, then the same object: what a consumer puts there stays.
    scope.state.seen = 1;
    scope.params.extra = "x";
    scope.query.append("late", "1");
    expect(scope.state).toEqual({ seen: 1 });
    expect(scope.params).toEqual({ extra: "x" });
    expect(scope.query.get("late")).toBe("1");
  });

  it("reads params, query, cookies, subprotocols, user and state from the request", async () => {
    const scope = await scopeOf(
      "/room/lobby?tag=a&tag=b",
      { cookie: "session=abc; theme=dark", "sec-websocket-protocol": "v1, v2" },
      { user: { name: "ada" }, tenant: "acme" },
    );
    expect(scope.params).toEqual({ name: "lobby" });
    expect(scope.query.getAll("tag")).toEqual(["a", "b"]);
    expect(scope.cookies).toEqual({ session: "abc", theme: "dark" });
    expect(scope.subprotocols).toEqual(["v1", "v2"]);
    expect(scope.user).toEqual({ name: "ada" });
    expect(scope.state).toEqual({ tenant: "acme" });
    expect(scope.headers.get("cookie")).toBe("session=abc; theme=dark");
    expect(scope.client).toEqual({ address: "127.0.0.1", port: 5000 });
  });

  it("lets each field be replaced, as on a plain object", async () => {
    const scope = await scopeOf("/plain");
    scope.state = { replaced: true };
    scope.query = new URLSearchParams("a=1");
    scope.cookies = { c: "1" };
    expect(scope.state).toEqual({ replaced: true });
    expect(scope.query.get("a")).toBe("1");
    expect(scope.cookies).toEqual({ c: "1" });
  });

  it("serialises with every field, as a plain object would", async () => {
    const scope = await scopeOf("/room/lobby?x=1", { cookie: "a=b" });
    const json = JSON.parse(JSON.stringify(scope));
    expect(Object.keys(json).sort()).toEqual(
      [
        "client",
        "cookies",
        "headers",
        "params",
        "path",
        "query",
        "state",
        "subprotocols",
        "type",
        "user",
      ].sort(),
    );
    expect(json).toMatchObject({
      type: "websocket",
      path: "/room/lobby",
      params: { name: "lobby" },
      cookies: { a: "b" },
    });
  });

  it("shows every field in console output, built on first read or not", async () => {
    const shown = Bun.inspect(await scopeOf("/plain"));
    for (const field of [
      "type",
      "path",
      "params",
      "query",
      "headers",
      "cookies",
      "client",
      "subprotocols",
      "user",
      "state",
    ]) {
      expect(shown).toContain(`${field}:`);
    }
  });
});

describe("createScope()", () => {
  it("gives tests the same kind of scope a real request gets", async () => {
    const real = await scopeOf("/room/lobby?tag=a");
    const test = createScope("/room/lobby?tag=a", {
      params: { name: "lobby" },
      client: { address: "127.0.0.1", port: 5000 },
    });
    expect(Object.getPrototypeOf(test)).toBe(Object.getPrototypeOf(real));
    expect(JSON.parse(JSON.stringify(test))).toEqual(JSON.parse(JSON.stringify(real)));
    expect(test.query.get("tag")).toBe("a");
    test.state.note = "kept";
    expect(test.state).toEqual({ note: "kept" });
  });
});
