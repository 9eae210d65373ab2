import { describe, expect, it } from "bun:test";
import { RouteError, type RouteErrorCode } from "../../src/errors.ts";
import {
  classifyFile,
  compareRoutes,
  type FileRole,
  fileToRoute,
  middlewareScope,
  type RoutePath,
  SegmentRank,
} from "../../src/routing/path.ts";

/** Runs `fn` and returns what it threw, so a test can look at the error's class and fields. */
function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error("expected a throw, but the call returned");
}

describe("classifyFile()", () => {
  const cases: [file: string, role: FileRole][] = [
    // Routes: any source extension, any depth.
    ["index.ts", "route"],
    ["about.ts", "route"],
    ["chat/[room].ts", "route"],
    ["files/[...rest].ts", "route"],
    ["(marketing)/about.ts", "route"],
    ["page.tsx", "route"],
    ["page.mts", "route"],
    ["page.js", "route"],
    ["page.jsx", "route"],
    ["page.mjs", "route"],
    ["robots.txt.ts", "route"],
    // A plain name that happens to be a marker word is still a route: only `.test.ts` etc. are tests.
    ["test.ts", "route"],
    ["spec.ts", "route"],
    ["d.ts", "route"],
    // Middleware, at the root, in a folder, in a group.
    ["_middleware.ts", "middleware"],
    ["_middleware.js", "middleware"],
    ["admin/_middleware.ts", "middleware"],
    ["(auth)/_middleware.ts", "middleware"],
    ["users/[id]/_middleware.ts", "middleware"],
    // Files starting with `_` or `-`.
    ["_helpers.ts", "ignored"],
    ["chat/_format.ts", "ignored"],
    ["-draft.ts", "ignored"],
    ["chat/-draft.ts", "ignored"],
    // Files in folders starting with `_` or `-`, at any depth, even if they look like routes.
    ["_lib/db.ts", "ignored"],
    ["-old/page.ts", "ignored"],
    ["chat/_lib/format.ts", "ignored"],
    ["chat/-old/[room].ts", "ignored"],
    ["_lib/deep/index.ts", "ignored"],
    ["_lib/_middleware.ts", "ignored"],
    ["-old/_middleware.ts", "ignored"],
    // Tests and type declarations.
    ["page.test.ts", "ignored"],
    ["chat/[room].test.ts", "ignored"],
    ["page.spec.ts", "ignored"],
    ["page.test.tsx", "ignored"],
    ["page.spec.js", "ignored"],
    ["types.d.ts", "ignored"],
    ["chat/env.d.ts", "ignored"],
    ["_middleware.test.ts", "ignored"],
    // Not source files.
    ["README.md", "ignored"],
    ["data.json", "ignored"],
    ["chat/notes.md", "ignored"],
    ["style.css", "ignored"],
    ["page.ts.bak", "ignored"],
    ["Makefile", "ignored"],
  ];

  it.each(cases)("classifies %s as %s", (file, role) => {
    expect(classifyFile(file)).toBe(role);
  });
});

describe("fileToRoute()", () => {
  const cases: [file: string, pattern: string, params: string[]][] = [
    ["index.ts", "/", []],
    ["about.ts", "/about", []],
    ["page.tsx", "/page", []],
    ["blog/index.ts", "/blog", []],
    ["blog/posts/index.ts", "/blog/posts", []],
    ["blog/posts/latest.ts", "/blog/posts/latest", []],
    ["[id].ts", "/:id", ["id"]],
    ["users/[id].ts", "/users/:id", ["id"]],
    ["users/[id]/index.ts", "/users/:id", ["id"]],
    ["users/[id]/posts/[postId].ts", "/users/:id/posts/:postId", ["id", "postId"]],
    ["users/[_id].ts", "/users/:_id", ["_id"]],
    ["users/[$key].ts", "/users/:$key", ["$key"]],
    ["[...rest].ts", "/:rest{.+}", ["rest"]],
    ["files/[...path].ts", "/files/:path{.+}", ["path"]],
    ["files/[...path]/index.ts", "/files/:path{.+}", ["path"]],
    ["users/[id]/files/[...path].ts", "/users/:id/files/:path{.+}", ["id", "path"]],
    ["(marketing)/about.ts", "/about", []],
    ["(marketing)/index.ts", "/", []],
    ["(a)/(b)/about.ts", "/about", []],
    ["shop/(cart)/[item].ts", "/shop/:item", ["item"]],
    ["(app)/users/[id].ts", "/users/:id", ["id"]],
    ["robots.txt.ts", "/robots.txt", []],
    ["feed.xml.ts", "/feed.xml", []],
    ["api/v1.2/status.ts", "/api/v1.2/status", []],
    ["well-known/security.txt.ts", "/well-known/security.txt", []],
  ];

  it.each(cases)("maps %s to %s", (file, pattern, params) => {
    const route = fileToRoute(file);
    expect(route.pattern).toBe(pattern);
    expect(route.params).toEqual(params);
  });

  it("maps [id] to :id", () => {
    expect(fileToRoute("[id].ts").pattern).toBe("/:id");
  });

  it("gives one rank per URL segment: static, param, catch-all", () => {
    expect(fileToRoute("users/[id]/files/[...path].ts").ranks).toEqual([
      SegmentRank.static,
      SegmentRank.param,
      SegmentRank.static,
      SegmentRank.catchAll,
    ]);
    expect(fileToRoute("index.ts").ranks).toEqual([]);
    expect(fileToRoute("(group)/about.ts").ranks).toEqual([SegmentRank.static]);
  });

  it("gives files whose patterns differ only in parameter names the same shape", () => {
    expect(fileToRoute("[id].ts").shape).toBe(fileToRoute("[slug].ts").shape);
    expect(fileToRoute("a.ts").shape).toBe(fileToRoute("a/index.ts").shape);
    expect(fileToRoute("a.ts").shape).toBe(fileToRoute("(x)/a.ts").shape);
    expect(fileToRoute("[id].ts").shape).not.toBe(fileToRoute("[...id].ts").shape);
    expect(fileToRoute("[id].ts").shape).not.toBe(fileToRoute("about.ts").shape);
  });

  // A (group) folder adds no segment, so a catch-all followed only by groups is still the last one.
  it("accepts a catch-all followed only by a (group) folder", () => {
    expect(fileToRoute("files/[...path]/(group)/index.ts").pattern).toBe("/files/:path{.+}");
  });
});

describe("fileToRoute() on invalid files", () => {
  const cases: [file: string, code: RouteErrorCode][] = [
    // Two parameters in one segment.
    ["[a][b].ts", "MULTIPLE_PARAMS"],
    ["x/[a][b]/y.ts", "MULTIPLE_PARAMS"],
    ["[a]-[b].ts", "MULTIPLE_PARAMS"],
    // A parameter must fill its whole segment.
    ["post-[id].ts", "INVALID_SEGMENT"],
    ["[id]-post.ts", "INVALID_SEGMENT"],
    ["blog/post-[id]/index.ts", "INVALID_SEGMENT"],
    ["[id.ts", "INVALID_SEGMENT"],
    ["id].ts", "INVALID_SEGMENT"],
    // A parameter name is a JavaScript identifier.
    ["[1x].ts", "INVALID_SEGMENT"],
    ["[].ts", "INVALID_SEGMENT"],
    ["[...].ts", "INVALID_SEGMENT"],
    ["[a-b].ts", "INVALID_SEGMENT"],
    ["[a b].ts", "INVALID_SEGMENT"],
    ["[..rest].ts", "INVALID_SEGMENT"],
    // A catch-all is the last segment.
    ["[...a]/b.ts", "CATCH_ALL_NOT_LAST"],
    ["files/[...a]/[b].ts", "CATCH_ALL_NOT_LAST"],
    ["[...a]/b/index.ts", "CATCH_ALL_NOT_LAST"],
    // One name per parameter.
    ["[id]/[id].ts", "DUPLICATE_PARAM"],
    ["[id]/x/[id]/index.ts", "DUPLICATE_PARAM"],
    ["[id]/[...id].ts", "DUPLICATE_PARAM"],
    // Static segments hold no pattern syntax.
    ["a:b.ts", "INVALID_SEGMENT"],
    [":id.ts", "INVALID_SEGMENT"],
    ["*.ts", "INVALID_SEGMENT"],
    ["files/*/index.ts", "INVALID_SEGMENT"],
    ["a*b.ts", "INVALID_SEGMENT"],
    ["{id}.ts", "INVALID_SEGMENT"],
    ["a b.ts", "INVALID_SEGMENT"],
    ["a?b.ts", "INVALID_SEGMENT"],
  ];

  it.each(cases)("refuses %s with %s", (file, code) => {
    const error = thrownBy(() => fileToRoute(file, `routes/${file}`));
    expect(error).toBeInstanceOf(RouteError);
    expect((error as RouteError).code).toBe(code);
    expect((error as RouteError).file).toBe(`routes/${file}`);
    expect((error as RouteError).message).toContain(`routes/${file}`);
  });

  it("names the file as given in its second argument, defaulting to the relative path", () => {
    const error = thrownBy(() => fileToRoute("[a][b].ts"));
    expect(error).toBeInstanceOf(RouteError);
    expect((error as RouteError).file).toBe("[a][b].ts");
  });
});

describe("middlewareScope()", () => {
  const cases: [file: string, pattern: string][] = [
    ["_middleware.ts", "/"],
    ["admin/_middleware.ts", "/admin"],
    ["admin/users/_middleware.ts", "/admin/users"],
    ["users/[id]/_middleware.ts", "/users/:id"],
    ["(auth)/_middleware.ts", "/"],
    ["shop/(cart)/_middleware.ts", "/shop"],
  ];

  it.each(cases)("scopes %s to %s", (file, pattern) => {
    expect(middlewareScope(file).pattern).toBe(pattern);
  });

  it("refuses a middleware in an invalid folder", () => {
    const error = thrownBy(() => middlewareScope("[a][b]/_middleware.ts", "routes/[a][b]/_middleware.ts"));
    expect(error).toBeInstanceOf(RouteError);
    expect((error as RouteError).code).toBe("MULTIPLE_PARAMS");
  });
});

describe("compareRoutes()", () => {
  const route = (file: string): RoutePath => fileToRoute(file);

  // [more specific, less specific, a URL both match]
  const precedence: [winner: string, loser: string, url: string][] = [
    ["about.ts", "[id].ts", "/about"],
    ["[id].ts", "[...rest].ts", "/x"],
    ["about.ts", "[...rest].ts", "/about"],
    ["users/me.ts", "users/[id].ts", "/users/me"],
    ["users/[id].ts", "users/[...rest].ts", "/users/1"],
    ["users/me.ts", "[a]/[b].ts", "/users/me"],
    ["users/[id].ts", "[a]/[b].ts", "/users/1"],
    ["users/[id].ts", "[...rest].ts", "/users/1"],
    ["[a]/[b].ts", "[...rest].ts", "/x/y"],
    ["[id]/edit.ts", "[a]/[b].ts", "/1/edit"],
    ["[id]/edit.ts", "[...rest].ts", "/1/edit"],
    ["users/[id]/posts.ts", "users/[...rest].ts", "/users/1/posts"],
    ["users/[...rest].ts", "[...rest].ts", "/users/1"],
    ["users/[...rest].ts", "[a]/[b].ts", "/users/1"],
    ["a/b/c.ts", "a/[...rest].ts", "/a/b/c"],
  ];

  it.each(precedence)("puts %s before %s (both match %s)", (winner, loser) => {
    expect(compareRoutes(route(winner), route(loser))).toBeLessThan(0);
    expect(compareRoutes(route(loser), route(winner))).toBeGreaterThan(0);
  });

  it("returns 0 only for the same pattern", () => {
    expect(compareRoutes(route("users/[id].ts"), route("users/[id]/index.ts"))).toBe(0);
    expect(compareRoutes(route("about.ts"), route("users.ts"))).not.toBe(0);
  });

  const files = [
    "index.ts",
    "about.ts",
    "users.ts",
    "[id].ts",
    "[...rest].ts",
    "[id]/edit.ts",
    "users/me.ts",
    "users/[id].ts",
    "users/[id]/posts.ts",
    "users/[id]/[...path].ts",
    "users/[...rest].ts",
    "a/b/c.ts",
    "a/[...rest].ts",
    "robots.txt.ts",
  ];
  const sortedPatterns = (order: string[]) =>
    order
      .map(route)
      .sort(compareRoutes)
      .map((path) => path.pattern);

  /** A small seeded generator, so a failing shuffle can be replayed. */
  function shuffled<T>(items: T[], seed: number): T[] {
    const copy = [...items];
    let state = seed;
    for (let i = copy.length - 1; i > 0; i--) {
      state = (state * 1103515245 + 12345) % 2147483648;
      const j = state % (i + 1);
      [copy[i], copy[j]] = [copy[j]!, copy[i]!];
    }
    return copy;
  }

  it("sorts the same set into the same order whatever the input order", () => {
    const expected = sortedPatterns(files);
    expect(sortedPatterns([...files].reverse())).toEqual(expected);
    for (let seed = 1; seed <= 50; seed++) {
      const input = shuffled(files, seed);
      expect(sortedPatterns(input)).toEqual(expected);
    }
  });

  it("orders a whole tree so every route comes before any less specific one", () => {
    const order = sortedPatterns(shuffled(files, 7));
    const at = (file: string) => order.indexOf(route(file).pattern);
    for (const [winner, loser] of precedence) {
      if (!files.includes(winner) || !files.includes(loser)) continue;
      expect(at(winner)).toBeLessThan(at(loser));
    }
    expect(at("about.ts")).toBeLessThan(at("[id].ts"));
    expect(at("robots.txt.ts")).toBeLessThan(at("[id].ts"));
    expect(at("[id].ts")).toBeLessThan(at("[...rest].ts"));
    expect(at("users/me.ts")).toBeLessThan(at("users/[id].ts"));
    expect(at("users/[id].ts")).toBeLessThan(at("users/[...rest].ts"));
    expect(at("users/[id]/[...path].ts")).toBeLessThan(at("users/[...rest].ts"));
    expect(at("a/b/c.ts")).toBeLessThan(at("a/[...rest].ts"));
  });

  it("breaks ties between equally specific routes by pattern, not input order", () => {
    expect(sortedPatterns(["users.ts", "about.ts"])).toEqual(["/about", "/users"]);
    expect(sortedPatterns(["about.ts", "users.ts"])).toEqual(["/about", "/users"]);
  });
});
