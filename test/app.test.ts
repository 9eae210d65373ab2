import { describe, expect, it } from "bun:test";
import { type Context, Hono, type Next } from "hono";
import { HTTPException } from "hono/http-exception";
import { Consumer, createApp, LayerOutcomeUnknownError, LayerUnavailableError } from "../src/index.ts";
import type { ManifestEntry, Runtime } from "../src/integration.ts";

/** Builds an app from in-memory route and consumer modules, as a generated manifest would. */
function appOf(routes: ManifestEntry[], consumers: ManifestEntry[] = [], runtime?: Runtime["upgrade"]) {
  return createApp({
    manifest: { routes, consumers },
    runtime: runtime ? { upgrade: runtime, client: () => null } : null,
  });
}

/** Records which handlers and middleware ran, in order. */
function recorder() {
  const log: string[] = [];
  return {
    log,
    /** A route handler answering with its own name (and its params, for checking them). */
    handler: (name: string) => (c: Context) => {
      log.push(name);
      return c.json({ name, params: c.req.param() });
    },
    middleware: (name: string) => async (_c: Context, next: Next) => {
      log.push(name);
      await next();
    },
    count: (name: string) => log.filter((entry) => entry === name).length,
  };
}

const upgradeHeaders = {
  Upgrade: "websocket",
  Connection: "Upgrade",
  "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
  "Sec-WebSocket-Version": "13",
};

class Echo extends Consumer {}

describe("createApp() HTTP routes", () => {
  it("logs one line per request at info, and builds none when the logger is above info", async () => {
    const lines: Array<Record<string, unknown> | undefined> = [];
    const record = (_: string, details?: Record<string, unknown>) => void lines.push(details);
    const routes = [{ file: "items.ts", module: { GET: (c: Context) => c.text("ok") } }];
    const logging = createApp({
      manifest: { routes, consumers: [] },
      runtime: null,
      logger: { debug() {}, info: record, warn() {}, error() {}, logs: () => true },
    });
    await logging.request("/items");
    expect(lines).toEqual([{ method: "GET", path: "/items", status: 200, durationMs: expect.any(Number) }]);

    const quiet = createApp({
      manifest: { routes, consumers: [] },
      runtime: null,
      logger: {
        debug() {},
        info: () => {
          throw new Error("an info line was built");
        },
        warn() {},
        error() {},
        logs: (level) => level !== "debug" && level !== "info",
      },
    });
    expect((await quiet.request("/items")).status).toBe(200);
  });

  it("reaches GET and POST handlers of a file", async () => {
    const r = recorder();
    const app = appOf([{ file: "items.ts", module: { GET: r.handler("list"), POST: r.handler("create") } }]);

    const get = await app.request("/items");
    expect(get.status).toBe(200);
    expect(await get.json()).toMatchObject({ name: "list" });

    const post = await app.request("/items", { method: "POST" });
    expect(post.status).toBe(200);
    expect(await post.json()).toMatchObject({ name: "create" });
    expect(r.log).toEqual(["list", "create"]);
  });

  it("serves index.ts at / and a nested index.ts at its folder", async () => {
    const r = recorder();
    const app = appOf([
      { file: "index.ts", module: { GET: r.handler("home") } },
      { file: "blog/index.ts", module: { GET: r.handler("blog") } },
    ]);
    expect(await (await app.request("/")).json()).toMatchObject({ name: "home" });
    expect(await (await app.request("/blog")).json()).toMatchObject({ name: "blog" });
  });

  it("answers 404 for an unknown path", async () => {
    const r = recorder();
    const app = appOf([{ file: "items.ts", module: { GET: r.handler("list") } }]);
    expect((await app.request("/nothing")).status).toBe(404);
    expect((await app.request("/items/1")).status).toBe(404);
    expect(r.log).toEqual([]);
  });

  it("answers 405 with Allow for a method the file does not export", async () => {
    const r = recorder();
    const app = appOf([{ file: "items.ts", module: { GET: r.handler("list"), POST: r.handler("add") } }]);
    const response = await app.request("/items", { method: "DELETE" });
    expect(response.status).toBe(405);
    expect(response.headers.get("allow")).toBe("GET, HEAD, POST");
    expect(await response.json()).toMatchObject({ error: "METHOD_NOT_ALLOWED" });
    expect(r.log).toEqual([]);
  });

  it("still reaches another file that serves the method on a matching pattern", async () => {
    const r = recorder();
    const app = appOf([
      { file: "chat/lobby.ts", module: { GET: r.handler("lobby") } },
      { file: "chat/[room].ts", module: { POST: r.handler("post") } },
    ]);
    expect((await app.request("/chat/lobby", { method: "POST" })).status).toBe(200);
    expect((await app.request("/chat/lobby", { method: "PUT" })).headers.get("allow")).toBe("GET, HEAD");
    expect((await app.request("/chat/other", { method: "GET" })).headers.get("allow")).toBe("POST");
  });

  it("passes path parameters to the handler", async () => {
    const r = recorder();
    const app = appOf([{ file: "users/[id]/posts/[postId].ts", module: { GET: r.handler("post") } }]);
    const response = await app.request("/users/7/posts/42");
    expect(await response.json()).toEqual({ name: "post", params: { id: "7", postId: "42" } });
  });

  it("accepts a trailing slash", async () => {
    const r = recorder();
    const app = appOf([
      { file: "chat/[room].ts", module: { GET: r.handler("room") } },
      { file: "about.ts", module: { GET: r.handler("about") } },
    ]);
    const room = await app.request("/chat/lobby/");
    expect(room.status).toBe(200);
    expect(await room.json()).toEqual({ name: "room", params: { room: "lobby" } });
    expect((await app.request("/about/")).status).toBe(200);
  });

  it("serves a static name with a dot, such as robots.txt.ts", async () => {
    const r = recorder();
    const app = appOf([{ file: "robots.txt.ts", module: { GET: r.handler("robots") } }]);
    expect(await (await app.request("/robots.txt")).json()).toMatchObject({ name: "robots" });
    expect((await app.request("/robots")).status).toBe(404);
  });

  // Hono answers HEAD by running the GET handler, so an exported HEAD handler is never called.
  it("reaches an exported HEAD handler", async () => {
    const r = recorder();
    const app = appOf([{ file: "items.ts", module: { GET: r.handler("get"), HEAD: r.handler("head") } }]);
    await app.request("/items", { method: "HEAD" });
    expect(r.log).toEqual(["head"]);
  });
});

describe("createApp() precedence", () => {
  // Listed least specific first, so registering in manifest order would get every case wrong.
  const routes = (r: ReturnType<typeof recorder>): ManifestEntry[] => [
    { file: "docs/[...rest].ts", module: { GET: r.handler("rest") } },
    { file: "docs/[page].ts", module: { GET: r.handler("page") } },
    { file: "docs/intro.ts", module: { GET: r.handler("intro") } },
    { file: "[...all].ts", module: { GET: r.handler("all") } },
    { file: "[section]/intro.ts", module: { GET: r.handler("section-intro") } },
  ];

  it("sends a URL to the static file over a [param] and a [...rest]", async () => {
    const r = recorder();
    const response = await appOf(routes(r)).request("/docs/intro");
    expect(await response.json()).toEqual({ name: "intro", params: {} });
    expect(r.log).toEqual(["intro"]);
  });

  it("sends a URL to the [param] over a [...rest]", async () => {
    const r = recorder();
    const response = await appOf(routes(r)).request("/docs/setup");
    expect(await response.json()).toEqual({ name: "page", params: { page: "setup" } });
    expect(r.log).toEqual(["page"]);
  });

  it("gives a catch-all the remainder of the path, slashes included", async () => {
    const r = recorder();
    const response = await appOf(routes(r)).request("/docs/guide/deploy/node");
    expect(await response.json()).toEqual({ name: "rest", params: { rest: "guide/deploy/node" } });
  });

  it("prefers a static first segment over a parameter, then a parameter over a catch-all", async () => {
    const r = recorder();
    const app = appOf(routes(r));
    expect(await (await app.request("/blog/intro")).json()).toMatchObject({ name: "section-intro" });
    expect(await (await app.request("/blog/other")).json()).toEqual({
      name: "all",
      params: { all: "blog/other" },
    });
  });

  it("does not match a catch-all on its folder alone", async () => {
    const r = recorder();
    const app = appOf([{ file: "files/[...path].ts", module: { GET: r.handler("files") } }]);
    expect((await app.request("/files")).status).toBe(404);
    expect((await app.request("/files/a")).status).toBe(200);
  });
});

describe("createApp() (group) folders", () => {
  it("serves a file in a (group) folder without a segment for the group", async () => {
    const r = recorder();
    const app = appOf([
      { file: "(marketing)/about.ts", module: { GET: r.handler("about") } },
      { file: "(marketing)/index.ts", module: { GET: r.handler("home") } },
      { file: "shop/(cart)/[item].ts", module: { GET: r.handler("item") } },
    ]);
    expect(await (await app.request("/about")).json()).toMatchObject({ name: "about" });
    expect(await (await app.request("/")).json()).toMatchObject({ name: "home" });
    expect(await (await app.request("/shop/hat")).json()).toEqual({ name: "item", params: { item: "hat" } });
    expect((await app.request("/marketing/about")).status).toBe(404);
    expect((await app.request("/(marketing)/about")).status).toBe(404);
  });
});

describe("createApp() _middleware files", () => {
  const tree = (r: ReturnType<typeof recorder>): ManifestEntry[] => [
    { file: "admin/users/list.ts", module: { GET: r.handler("list") } },
    { file: "admin/users/_middleware.ts", module: { default: r.middleware("users-mw") } },
    { file: "admin/index.ts", module: { GET: r.handler("admin") } },
    { file: "admin/_middleware.ts", module: { default: r.middleware("admin-mw") } },
    { file: "administrator.ts", module: { GET: r.handler("administrator") } },
    { file: "about.ts", module: { GET: r.handler("about") } },
    { file: "_middleware.ts", module: { default: r.middleware("root-mw") } },
  ];

  it("applies a folder's middleware to the folder's own index", async () => {
    const r = recorder();
    await appOf(tree(r)).request("/admin");
    expect(r.log).toContain("admin-mw");
    expect(r.log.at(-1)).toBe("admin");
  });

  it("applies a folder's middleware to files below it", async () => {
    const r = recorder();
    await appOf(tree(r)).request("/admin/users/list");
    expect(r.log).toContain("admin-mw");
    expect(r.log).toContain("users-mw");
  });

  it("does not apply a folder's middleware to siblings, even one whose name starts the same", async () => {
    const r = recorder();
    const app = appOf(tree(r));
    await app.request("/about");
    await app.request("/administrator");
    expect(r.log).toEqual(["root-mw", "about", "root-mw", "administrator"]);
  });

  it("runs parent middleware before child middleware, then the handler", async () => {
    const r = recorder();
    await appOf(tree(r)).request("/admin/users/list");
    expect(r.log).toEqual(["root-mw", "admin-mw", "users-mw", "list"]);
  });

  it("runs root middleware once per request", async () => {
    const r = recorder();
    const app = appOf(tree(r));
    for (const path of ["/", "/about", "/admin", "/admin/users/list", "/missing"]) {
      r.log.length = 0;
      await app.request(path);
      expect(r.count("root-mw")).toBe(1);
    }
  });

  it("runs a folder's middleware once for a request below the folder", async () => {
    const r = recorder();
    await appOf(tree(r)).request("/admin/users/list");
    expect(r.count("admin-mw")).toBe(1);
    expect(r.count("users-mw")).toBe(1);
  });

  // register.ts mounts a folder's middleware on both `pattern` and `pattern/*`; Hono's `pattern/*`
  // also matches `pattern` itself, so a request to the folder's own path runs it twice.
  it("runs a folder's middleware once for a request to the folder itself", async () => {
    const r = recorder();
    const app = appOf(tree(r));
    await app.request("/admin");
    expect(r.count("admin-mw")).toBe(1);
    r.log.length = 0;
    await app.request("/admin/");
    expect(r.count("admin-mw")).toBe(1);
  });

  it("lets middleware answer instead of the handler", async () => {
    const r = recorder();
    const deny = (c: Context) => c.text("no", 401);
    const app = appOf([
      { file: "admin/_middleware.ts", module: { default: deny } },
      { file: "admin/index.ts", module: { GET: r.handler("admin") } },
      { file: "about.ts", module: { GET: r.handler("about") } },
    ]);
    expect((await app.request("/admin")).status).toBe(401);
    expect((await app.request("/about")).status).toBe(200);
    expect(r.log).toEqual(["about"]);
  });

  it("runs an exported array of middleware in order", async () => {
    const r = recorder();
    const app = appOf([
      { file: "_middleware.ts", module: { default: [r.middleware("first"), r.middleware("second")] } },
      { file: "index.ts", module: { GET: r.handler("home") } },
    ]);
    await app.request("/");
    expect(r.log).toEqual(["first", "second", "home"]);
  });

  it("applies a [param] folder's middleware with its parameter", async () => {
    const r = recorder();
    const seen: string[] = [];
    const app = appOf([
      {
        file: "users/[id]/_middleware.ts",
        module: {
          default: async (c: Context, next: Next) => {
            seen.push(c.req.param("id") ?? "none");
            await next();
          },
        },
      },
      { file: "users/[id]/posts.ts", module: { GET: r.handler("posts") } },
    ]);
    await app.request("/users/9/posts");
    expect(seen).toEqual(["9"]);
  });

  // A (group) folder adds no URL segment, but it is still a folder: its middleware should cover the
  // files inside it only. register.ts mounts it at `/`, so it runs for every route of the tree.
  it("does not apply a (group) folder's middleware to files outside the group", async () => {
    const r = recorder();
    const app = appOf([
      { file: "(auth)/_middleware.ts", module: { default: r.middleware("auth-mw") } },
      { file: "(auth)/dashboard.ts", module: { GET: r.handler("dashboard") } },
      { file: "about.ts", module: { GET: r.handler("about") } },
    ]);
    await app.request("/dashboard");
    expect(r.log).toEqual(["auth-mw", "dashboard"]);
    r.log.length = 0;
    await app.request("/about");
    expect(r.log).toEqual(["about"]);
  });

  // Middleware is matched by URL pattern, and `/:id/*` matches URLs of sibling static files too.
  it("does not apply a [param] folder's middleware to static siblings of the folder", async () => {
    const r = recorder();
    const app = appOf([
      { file: "[id]/_middleware.ts", module: { default: r.middleware("id-mw") } },
      { file: "[id]/index.ts", module: { GET: r.handler("id") } },
      { file: "about.ts", module: { GET: r.handler("about") } },
      { file: "admin/users.ts", module: { GET: r.handler("users") } },
    ]);
    await app.request("/about");
    await app.request("/admin/users");
    expect(r.log).toEqual(["about", "users"]);
  });
});

describe("createApp() default-exported Hono apps", () => {
  it("mounts the app at its file's path", async () => {
    const api = new Hono()
      .get("/", (c) => c.text("api root"))
      .get("/users/:id", (c) => c.text(`user ${c.req.param("id")}`))
      .post("/echo", async (c) => c.text(await c.req.text()));
    const app = appOf([{ file: "api.ts", module: { default: api } }]);

    expect(await (await app.request("/api")).text()).toBe("api root");
    expect(await (await app.request("/api/")).text()).toBe("api root");
    expect(await (await app.request("/api/users/3")).text()).toBe("user 3");
    expect(await (await app.request("/api/echo", { method: "POST", body: "hi" })).text()).toBe("hi");
    expect((await app.request("/users/3")).status).toBe(404);
    expect((await app.request("/api/missing")).status).toBe(404);
  });

  it("mounts an index.ts app at its folder and passes the folder's parameters", async () => {
    const profile = new Hono().get("/profile", (c) => c.text(`profile ${c.req.param("id")}`));
    const app = appOf([{ file: "users/[id]/index.ts", module: { default: profile } }]);
    expect(await (await app.request("/users/5/profile")).text()).toBe("profile 5");
  });

  it("runs folder middleware before the mounted app", async () => {
    const r = recorder();
    const api = new Hono().get("/ping", (c) => {
      r.log.push("ping");
      return c.text("pong");
    });
    const app = appOf([
      { file: "api/_middleware.ts", module: { default: r.middleware("api-mw") } },
      { file: "api/v1.ts", module: { default: api } },
    ]);
    expect(await (await app.request("/api/v1/ping")).text()).toBe("pong");
    expect(r.log).toEqual(["api-mw", "ping"]);
  });
});

describe("createApp() consumer paths", () => {
  it("answers a plain GET to a consumer-only path with 426 and Upgrade: websocket", async () => {
    const app = appOf([], [{ file: "chat/[room].ts", module: { default: Echo } }]);
    for (const path of ["/chat/lobby", "/chat/lobby/"]) {
      const response = await app.request(path);
      expect(response.status).toBe(426);
      expect(response.headers.get("upgrade")).toBe("websocket");
    }
  });

  it("answers a plain GET to a path with a route and a consumer from the route", async () => {
    const r = recorder();
    const app = appOf(
      [{ file: "chat/[room].ts", module: { GET: r.handler("page") } }],
      [{ file: "chat/[room].ts", module: { default: Echo } }],
    );
    const response = await app.request("/chat/lobby");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ name: "page", params: { room: "lobby" } });
  });

  it("sends an upgrade on a path with a route and a consumer to the consumer, not the route", async () => {
    const r = recorder();
    const app = appOf(
      [{ file: "chat/[room].ts", module: { GET: r.handler("page") } }],
      [{ file: "chat/[room].ts", module: { default: Echo } }],
    );
    // Without a runtime adapter the upgrade handler answers 501; the route's 200 would mean a leak.
    const response = await app.request("/chat/lobby", { headers: upgradeHeaders });
    expect(response.status).toBe(501);
    expect(r.log).toEqual([]);
  });

  it("recognises the Upgrade header whatever its case", async () => {
    const app = appOf([], [{ file: "echo.ts", module: { default: Echo } }]);
    const response = await app.request("/echo", { headers: { Upgrade: "WebSocket", Connection: "Upgrade" } });
    expect(response.status).toBe(501);
  });

  it("answers 404 to an upgrade on an unknown path", async () => {
    const app = appOf([], [{ file: "echo.ts", module: { default: Echo } }]);
    expect((await app.request("/nowhere", { headers: upgradeHeaders })).status).toBe(404);
  });

  it("answers 404 to an upgrade on a path that only has a route", async () => {
    const r = recorder();
    const app = appOf([{ file: "page.ts", module: { GET: r.handler("page") } }]);
    expect((await app.request("/page", { headers: upgradeHeaders })).status).toBe(404);
    expect(r.log).toEqual([]);
  });

  it("runs consumer middleware, not route middleware, for an upgrade", async () => {
    const r = recorder();
    const app = appOf(
      [{ file: "_middleware.ts", module: { default: r.middleware("http-mw") } }],
      [
        { file: "_middleware.ts", module: { default: r.middleware("ws-mw") } },
        { file: "echo.ts", module: { default: Echo } },
      ],
    );
    await app.request("/echo", { headers: upgradeHeaders });
    expect(r.log).toEqual(["ws-mw"]);
  });

  it("runs a consumer folder's middleware once for an upgrade to the folder itself", async () => {
    const r = recorder();
    const app = appOf(
      [],
      [
        { file: "chat/_middleware.ts", module: { default: r.middleware("chat-mw") } },
        { file: "chat/index.ts", module: { default: Echo } },
      ],
    );
    await app.request("/chat", { headers: upgradeHeaders });
    expect(r.log).toEqual(["chat-mw"]);
  });

  it("hands an upgrade to the most specific consumer, with its parameters", async () => {
    const seen: string[] = [];
    class Lobby extends Consumer {
      override connect() {
        seen.push("lobby");
        return this.accept();
      }
    }
    class Room extends Consumer {
      override connect() {
        seen.push(`room ${this.scope.params.room}`);
        return this.accept();
      }
    }
    const app = appOf(
      [],
      [
        { file: "chat/[room].ts", module: { default: Room } },
        { file: "chat/lobby.ts", module: { default: Lobby } },
      ],
      () => new Response("upgraded"),
    );
    expect(await (await app.request("/chat/lobby", { headers: upgradeHeaders })).text()).toBe("upgraded");
    expect(await (await app.request("/chat/games/", { headers: upgradeHeaders })).text()).toBe("upgraded");
    expect(seen).toEqual(["lobby", "room games"]);
  });
});

describe("createApp() path parameters", () => {
  it("decodes a parameter exactly once", async () => {
    const r = recorder();
    const app = appOf([{ file: "items/[id].ts", module: { GET: r.handler("item") } }]);
    const once = await app.request("/items/%2541"); // %25 is "%": one decoding gives "%41", two "A"
    expect(await once.json()).toMatchObject({ params: { id: "%41" } });
    const spaced = await app.request("/items/caf%C3%A9%20au%20lait");
    expect(await spaced.json()).toMatchObject({ params: { id: "café au lait" } });
  });

  it("keeps ../ in a parameter as text: nothing maps parameters to files", async () => {
    const r = recorder();
    const app = appOf([{ file: "files/[...path].ts", module: { GET: r.handler("files") } }]);
    const response = await app.request("/files/..%2F..%2Fetc%2Fpasswd");
    expect(response.status).toBe(200);
    // Handed to the view as a string to validate, never resolved against the file system.
    expect(await response.json()).toEqual({ name: "files", params: { path: "../../etc/passwd" } });
  });
});

describe("createApp() malformed upgrades", () => {
  it("answers 400 to an upgrade without a key or version, before any consumer code", async () => {
    let constructed = 0;
    class Counted extends Consumer {
      constructor(...args: ConstructorParameters<typeof Consumer>) {
        super(...args);
        constructed++;
      }
    }
    const app = appOf([], [{ file: "echo.ts", module: { default: Counted } }], () => new Response(null));
    for (const headers of [
      { Upgrade: "websocket", Connection: "Upgrade" },
      { ...upgradeHeaders, "Sec-WebSocket-Version": "8" },
    ]) {
      expect((await app.request("/echo", { headers })).status).toBe(400);
    }
    expect(constructed).toBe(0);
  });
});

describe("createApp() framework middleware", () => {
  it("answers 413 to a body over maxBodyBytes before the view reads it", async () => {
    const app = createApp({
      manifest: {
        routes: [{ file: "echo.ts", module: { POST: async (c: Context) => c.text(await c.req.text()) } }],
        consumers: [],
      },
      limits: { maxBodyBytes: 16 },
    });
    expect((await app.request("/echo", { method: "POST", body: "small" })).status).toBe(200);
    const big = await app.request("/echo", { method: "POST", body: "x".repeat(17) });
    expect(big.status).toBe(413);
    expect(await big.json()).toMatchObject({ error: "BODY_TOO_LARGE" });
  });

  it("sends the same CORS headers with and without an Origin, and Vary: Origin on both", async () => {
    const app = createApp({
      manifest: {
        routes: [{ file: "page.ts", module: { GET: (c: Context) => c.json({ ok: true }) } }],
        consumers: [],
      },
      allowedOrigins: ["https://app.example.com"],
    });
    const plain = await app.request("/page");
    expect(plain.headers.get("vary")).toBe("Origin");
    expect(plain.headers.get("access-control-allow-credentials")).toBe("true");
    expect(plain.headers.get("access-control-allow-origin")).toBeNull();
    expect(await plain.json()).toEqual({ ok: true });

    const allowed = await app.request("/page", { headers: { origin: "https://app.example.com" } });
    expect(allowed.headers.get("vary")).toBe("Origin");
    expect(allowed.headers.get("access-control-allow-origin")).toBe("https://app.example.com");
    const other = await app.request("/page", { headers: { origin: "https://evil.example" } });
    expect(other.headers.get("access-control-allow-origin")).toBeNull();

    const open = createApp({
      manifest: {
        routes: [{ file: "page.ts", module: { GET: (c: Context) => c.text("ok") } }],
        consumers: [],
      },
      allowedOrigins: ["*"],
    });
    expect((await open.request("/page")).headers.get("access-control-allow-origin")).toBe("*");
    const anyOrigin = await open.request("/page", { headers: { origin: "https://elsewhere.example" } });
    expect(anyOrigin.headers.get("access-control-allow-origin")).toBe("*");
    expect(anyOrigin.headers.get("access-control-allow-credentials")).toBeNull();
  });

  it("sends no CORS headers without an Origin where only the server's own pages may read it (production, default origins)", async () => {
    const manifest = {
      routes: [{ file: "page.ts", module: { GET: (c: Context) => c.json({ ok: true }) } }],
      consumers: [],
    };
    const own = createApp({ manifest, production: true });
    const plain = await own.request("/page", { headers: { host: "app.example.com" } });
    expect(plain.headers.get("vary")).toBeNull();
    expect(plain.headers.get("access-control-allow-credentials")).toBeNull();
    expect(await plain.json()).toEqual({ ok: true });
    // A request with an Origin still gets the full answer, its own origin allowed and Vary set.
    const same = await own.request("/page", {
      headers: { host: "app.example.com", origin: "http://app.example.com" },
    });
    expect(same.headers.get("access-control-allow-origin")).toBe("http://app.example.com");
    expect(same.headers.get("vary")).toBe("Origin");
    // Outside production localhost pages of any port may read responses: caches must vary.
    const dev = createApp({ manifest });
    expect((await dev.request("/page")).headers.get("vary")).toBe("Origin");
  });

  it("answers 503 when the layer is unavailable, in a view and in a consumer's middleware", async () => {
    const down = async () => {
      throw new LayerUnavailableError(new Error("connection refused"));
    };
    const app = createApp({
      manifest: {
        routes: [{ file: "push.ts", module: { POST: down } }],
        consumers: [
          { file: "_middleware.ts", module: { default: down } },
          { file: "echo.ts", module: { default: Echo } },
        ],
      },
    });
    for (const response of [
      await app.request("/push", { method: "POST" }),
      await app.request("/echo", { headers: upgradeHeaders }),
    ]) {
      expect(response.status).toBe(503);
      expect(await response.json()).toMatchObject({ error: "LAYER_UNAVAILABLE" });
    }
  });

  it("answers 503 OUTCOME_UNKNOWN, not LAYER_UNAVAILABLE, when the layer did not confirm a call", async () => {
    const app = createApp({
      manifest: {
        routes: [
          {
            file: "push.ts",
            module: {
              POST: async () => {
                throw new LayerOutcomeUnknownError(new Error("Command timed out"));
              },
            },
          },
        ],
        consumers: [],
      },
    });
    const response = await app.request("/push", { method: "POST" });
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ error: "OUTCOME_UNKNOWN" });
  });

  it("sends a literal * without credentials when ALLOWED_ORIGINS is *", async () => {
    const app = createApp({
      manifest: {
        routes: [{ file: "index.ts", module: { GET: (c: Context) => c.text("ok") } }],
        consumers: [],
      },
      allowedOrigins: ["*"],
    });
    const response = await app.request("/", { headers: { Origin: "https://anywhere.example" } });
    expect(response.headers.get("access-control-allow-origin")).toBe("*");
    expect(response.headers.get("access-control-allow-credentials")).toBeNull();
  });
});

describe("createApp() errors from Hono middleware", () => {
  it("keeps the status of an HTTPException, for views and for upgrades", async () => {
    const refuse = () => {
      throw new HTTPException(401, { message: "no token" });
    };
    const app = createApp({
      manifest: {
        routes: [{ file: "private.ts", module: { GET: refuse } }],
        consumers: [
          { file: "_middleware.ts", module: { default: refuse } },
          { file: "echo.ts", module: { default: Echo } },
        ],
      },
    });
    expect((await app.request("/private")).status).toBe(401);
    expect((await app.request("/echo", { headers: upgradeHeaders })).status).toBe(401);
  });
});
