import { describe, expect, it } from "bun:test";
import type { Context, Next } from "hono";
import { Hono } from "hono";
import type { RouteErrorCode } from "../../src/errors.ts";
import { Consumer, RouteError } from "../../src/index.ts";
import { type Manifest, type ManifestEntry, resolveManifest } from "../../src/routing/manifest.ts";

const ok = (c: Context) => c.text("ok");
const pass = async (_c: Context, next: Next) => {
  await next();
};
class Echo extends Consumer {}

function manifest(routes: ManifestEntry[], consumers: ManifestEntry[] = []): Manifest {
  return { routes, consumers };
}

/** Resolves `input` and returns the `RouteError` it threw. */
function refusal(input: Manifest): RouteError {
  try {
    resolveManifest(input);
  } catch (error) {
    expect(error).toBeInstanceOf(RouteError);
    return error as RouteError;
  }
  throw new Error("expected resolveManifest() to throw, but it returned");
}

function expectRefusal(input: Manifest, code: RouteErrorCode, file: string): RouteError {
  const error = refusal(input);
  expect(error.code).toBe(code);
  expect(error.file).toBe(file);
  expect(error.message).toContain(file);
  return error;
}

describe("resolveManifest() on route files", () => {
  it("accepts a file exporting method handlers and keeps only those", () => {
    const table = resolveManifest(manifest([{ file: "a.ts", module: { GET: ok, POST: ok, helper: 1 } }]));
    expect(table.http).toHaveLength(1);
    expect(table.http[0]!.file).toBe("routes/a.ts");
    expect(table.http[0]!.path.pattern).toBe("/a");
    expect(Object.keys(table.http[0]!.handlers).sort()).toEqual(["GET", "POST"]);
    expect(table.http[0]!.app).toBeNull();
  });

  it("accepts every HTTP method as a handler export", () => {
    const module = { GET: ok, HEAD: ok, POST: ok, PUT: ok, PATCH: ok, DELETE: ok, OPTIONS: ok };
    const table = resolveManifest(manifest([{ file: "a.ts", module }]));
    expect(Object.keys(table.http[0]!.handlers).sort()).toEqual(Object.keys(module).sort());
  });

  it("refuses a file with no handler export", () => {
    expectRefusal(manifest([{ file: "a.ts", module: {} }]), "NO_HANDLER", "routes/a.ts");
  });

  it("refuses a file whose only exports are not method names", () => {
    const module = { get: ok, handler: ok, config: { cache: true } };
    expectRefusal(manifest([{ file: "blog/a.ts", module }]), "NO_HANDLER", "routes/blog/a.ts");
  });

  it("refuses a GET export that is not a function", () => {
    expectRefusal(manifest([{ file: "a.ts", module: { GET: "hello" } }]), "NO_HANDLER", "routes/a.ts");
    expectRefusal(manifest([{ file: "a.ts", module: { GET: null } }]), "NO_HANDLER", "routes/a.ts");
    expectRefusal(manifest([{ file: "a.ts", module: { GET: { fetch: ok } } }]), "NO_HANDLER", "routes/a.ts");
  });

  it("refuses a non-function method export even next to a valid one", () => {
    const module = { GET: ok, POST: 42 };
    expectRefusal(manifest([{ file: "a.ts", module }]), "NO_HANDLER", "routes/a.ts");
  });

  it("refuses a default export that is a plain function rather than a Hono app", () => {
    expectRefusal(manifest([{ file: "a.ts", module: { default: ok } }]), "NO_HANDLER", "routes/a.ts");
  });

  it("accepts a default-exported Hono app", () => {
    const sub = new Hono().get("/", ok);
    const table = resolveManifest(manifest([{ file: "api.ts", module: { default: sub } }]));
    expect(table.http[0]!.app).toBe(sub);
    expect(table.http[0]!.path.pattern).toBe("/api");
  });

  it("accepts a default-exported Hono app next to method handlers", () => {
    const sub = new Hono();
    const table = resolveManifest(manifest([{ file: "api.ts", module: { default: sub, POST: ok } }]));
    expect(table.http[0]!.app).toBe(sub);
    expect(Object.keys(table.http[0]!.handlers)).toEqual(["POST"]);
  });

  it("skips files that are not routes, whatever they export", () => {
    const table = resolveManifest(
      manifest([
        { file: "_helpers.ts", module: {} },
        { file: "-draft.ts", module: { GET: "not a function" } },
        { file: "_lib/db.ts", module: {} },
        { file: "a.test.ts", module: {} },
        { file: "notes.md", module: {} },
        { file: "a.ts", module: { GET: ok } },
      ]),
    );
    expect(table.http.map((route) => route.file)).toEqual(["routes/a.ts"]);
  });

  it("refuses a file with an invalid name, naming it with its tree", () => {
    expectRefusal(
      manifest([{ file: "[a][b].ts", module: { GET: ok } }]),
      "MULTIPLE_PARAMS",
      "routes/[a][b].ts",
    );
  });

  it("lists HTTP routes most specific first, whatever the manifest order", () => {
    const files = ["[...rest].ts", "[id].ts", "index.ts", "about.ts", "users/[id].ts", "users/me.ts"];
    const table = resolveManifest(manifest(files.map((file) => ({ file, module: { GET: ok } }))));
    const reversed = resolveManifest(
      manifest([...files].reverse().map((file) => ({ file, module: { GET: ok } }))),
    );
    const patterns = table.http.map((route) => route.path.pattern);
    expect(reversed.http.map((route) => route.path.pattern)).toEqual(patterns);
    expect(patterns.indexOf("/users/me")).toBeLessThan(patterns.indexOf("/users/:id"));
    expect(patterns.indexOf("/about")).toBeLessThan(patterns.indexOf("/:id"));
    expect(patterns.indexOf("/:id")).toBeLessThan(patterns.indexOf("/:rest{.+}"));
  });
});

describe("resolveManifest() on consumer files", () => {
  it("accepts a default-exported class extending Consumer", () => {
    const table = resolveManifest(manifest([], [{ file: "chat/[room].ts", module: { default: Echo } }]));
    expect(table.sockets).toHaveLength(1);
    expect(table.sockets[0]!.consumer).toBe(Echo);
    expect(table.sockets[0]!.file).toBe("consumers/chat/[room].ts");
    expect(table.sockets[0]!.path.pattern).toBe("/chat/:room");
  });

  it("accepts a class extending a subclass of Consumer", () => {
    class Loud extends Echo {}
    const table = resolveManifest(manifest([], [{ file: "loud.ts", module: { default: Loud } }]));
    expect(table.sockets[0]!.consumer).toBe(Loud);
  });

  it("refuses a consumer file without a default export", () => {
    const input = manifest([], [{ file: "echo.ts", module: { Echo } }]);
    expectRefusal(input, "NO_CONSUMER", "consumers/echo.ts");
  });

  it("refuses a default export that is a plain function", () => {
    const input = manifest([], [{ file: "echo.ts", module: { default: () => undefined } }]);
    expectRefusal(input, "NO_CONSUMER", "consumers/echo.ts");
  });

  it("refuses a default-exported class that does not extend Consumer", () => {
    class NotAConsumer {
      connect() {}
    }
    const input = manifest([], [{ file: "echo.ts", module: { default: NotAConsumer } }]);
    expectRefusal(input, "NO_CONSUMER", "consumers/echo.ts");
  });

  it("refuses, at startup, a consumer that relays a type it also handles", () => {
    class Both extends Echo {
      static override relays = ["chat.message"];
      chatMessage() {}
    }
    const input = manifest([], [{ file: "chat.ts", module: { default: Both } }]);
    expectRefusal(input, "BAD_RELAYS", "consumers/chat.ts");
  });

  it("refuses a default export that is an instance rather than a class", () => {
    const input = manifest([], [{ file: "echo.ts", module: { default: { prototype: Echo.prototype } } }]);
    expectRefusal(input, "NO_CONSUMER", "consumers/echo.ts");
  });

  it("accepts a route and a consumer on the same path", () => {
    const table = resolveManifest(
      manifest(
        [{ file: "chat/[room].ts", module: { GET: ok } }],
        [{ file: "chat/[room].ts", module: { default: Echo } }],
      ),
    );
    expect(table.http.map((route) => route.path.pattern)).toEqual(["/chat/:room"]);
    expect(table.sockets.map((route) => route.path.pattern)).toEqual(["/chat/:room"]);
  });

  it("accepts a route and a consumer of the same shape with different parameter names", () => {
    const table = resolveManifest(
      manifest(
        [{ file: "chat/[id].ts", module: { GET: ok } }],
        [{ file: "chat/[room].ts", module: { default: Echo } }],
      ),
    );
    expect(table.http).toHaveLength(1);
    expect(table.sockets).toHaveLength(1);
  });
});

describe("resolveManifest() on _middleware files", () => {
  it("accepts a default-exported function, scoped to its folder", () => {
    const table = resolveManifest(manifest([{ file: "admin/_middleware.ts", module: { default: pass } }]));
    expect(table.httpMiddleware).toHaveLength(1);
    expect(table.httpMiddleware[0]!.path.pattern).toBe("/admin");
    expect(table.httpMiddleware[0]!.handlers).toEqual([pass]);
    expect(table.http).toEqual([]);
  });

  it("accepts a default-exported array of functions", () => {
    const other = async (_c: Context, next: Next) => next();
    const table = resolveManifest(manifest([{ file: "_middleware.ts", module: { default: [pass, other] } }]));
    expect(table.httpMiddleware[0]!.handlers).toEqual([pass, other]);
  });

  it("keeps consumer middleware apart from HTTP middleware", () => {
    const table = resolveManifest(manifest([], [{ file: "_middleware.ts", module: { default: pass } }]));
    expect(table.socketMiddleware).toHaveLength(1);
    expect(table.httpMiddleware).toEqual([]);
  });

  const invalid: [label: string, module: Record<string, unknown>][] = [
    ["no default export", { middleware: pass }],
    ["a string", { default: "auth" }],
    ["an object", { default: { handler: pass } }],
    ["an empty array", { default: [] }],
    ["an array holding a non-function", { default: [pass, "auth"] }],
  ];

  it.each(invalid)("refuses a default export that is %s", (_label, module) => {
    expectRefusal(
      manifest([{ file: "admin/_middleware.ts", module }]),
      "INVALID_MIDDLEWARE",
      "routes/admin/_middleware.ts",
    );
    expectRefusal(
      manifest([], [{ file: "admin/_middleware.ts", module }]),
      "INVALID_MIDDLEWARE",
      "consumers/admin/_middleware.ts",
    );
  });

  it("lists middleware outer folders first, whatever the manifest order", () => {
    const table = resolveManifest(
      manifest([
        { file: "admin/users/_middleware.ts", module: { default: pass } },
        { file: "admin/_middleware.ts", module: { default: pass } },
        { file: "_middleware.ts", module: { default: pass } },
      ]),
    );
    expect(table.httpMiddleware.map((route) => route.path.pattern)).toEqual(["/", "/admin", "/admin/users"]);
  });
});

describe("resolveManifest() on duplicate paths", () => {
  const duplicates: [first: string, second: string][] = [
    ["a.ts", "a/index.ts"],
    ["(x)/a.ts", "a.ts"],
    ["[id].ts", "[slug].ts"],
    ["users/[id].ts", "users/[name]/index.ts"],
    ["index.ts", "(marketing)/index.ts"],
    ["(a)/about.ts", "(b)/about.ts"],
    ["files/[...path].ts", "files/[...rest].ts"],
    ["a.ts", "a.tsx"],
  ];

  it.each(duplicates)("refuses %s and %s in one routes tree", (first, second) => {
    const error = expectRefusal(
      manifest([
        { file: first, module: { GET: ok } },
        { file: second, module: { GET: ok } },
      ]),
      "DUPLICATE_ROUTE",
      `routes/${second}`,
    );
    expect(error.message).toContain(`routes/${first}`);
  });

  it.each(duplicates)("refuses %s and %s in one consumers tree", (first, second) => {
    const error = expectRefusal(
      manifest(
        [],
        [
          { file: first, module: { default: Echo } },
          { file: second, module: { default: Echo } },
        ],
      ),
      "DUPLICATE_ROUTE",
      `consumers/${second}`,
    );
    expect(error.message).toContain(`consumers/${first}`);
  });

  it("accepts a parameter and a catch-all in one folder", () => {
    const table = resolveManifest(
      manifest([
        { file: "[id].ts", module: { GET: ok } },
        { file: "[...rest].ts", module: { GET: ok } },
      ]),
    );
    expect(table.http).toHaveLength(2);
  });

  it("accepts a static file next to a parameter file", () => {
    const table = resolveManifest(
      manifest([
        { file: "[id].ts", module: { GET: ok } },
        { file: "new.ts", module: { GET: ok } },
      ]),
    );
    expect(table.http).toHaveLength(2);
  });
});
