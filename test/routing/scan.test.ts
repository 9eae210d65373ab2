import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createApp, RouteError } from "../../src/index.ts";
import { scanProject } from "../../src/integration.ts";

/** The framework's entry, by absolute path, so fixture files outside the repository can import it. */
const entry = JSON.stringify(fileURLToPath(new URL("../../src/index.ts", import.meta.url)));

const route = (name: string) => `export function GET() { return new Response(${JSON.stringify(name)}); }\n`;
const consumer = `import { Consumer } from ${entry};\nexport default class Fixture extends Consumer {}\n`;
const middleware = "export default async (_c, next) => { await next(); };\n";
const throwing = (why: string) => `throw new Error(${JSON.stringify(`must not be imported: ${why}`)});\n`;

let base: string;

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), "hono-channels-scan-"));
});

afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

/** Writes `files` (project-relative path -> contents) into a fresh project folder and returns it. */
async function project(name: string, files: Record<string, string>): Promise<string> {
  const root = join(base, name);
  for (const [file, contents] of Object.entries(files)) {
    await mkdir(dirname(join(root, file)), { recursive: true });
    await writeFile(join(root, file), contents);
  }
  await mkdir(root, { recursive: true });
  return root;
}

/** Runs `scan` and returns the `RouteError` it rejected with. */
async function refusal(scan: Promise<unknown>): Promise<RouteError> {
  try {
    await scan;
  } catch (error) {
    expect(error).toBeInstanceOf(RouteError);
    return error as RouteError;
  }
  throw new Error("expected scanProject() to reject, but it resolved");
}

describe("scanProject()", () => {
  it("finds nested files with /-separated tree-relative paths, in sorted order", async () => {
    const root = await project("nested", {
      "routes/index.ts": route("home"),
      "routes/chat/[room].ts": route("room"),
      "routes/chat/lobby.ts": route("lobby"),
      "routes/api/v1/users.ts": route("users"),
      "routes/(marketing)/about.ts": route("about"),
      "routes/_middleware.ts": middleware,
      "consumers/echo.ts": consumer,
      "consumers/chat/[room].ts": consumer,
    });
    const manifest = await scanProject(root);
    const routeFiles = manifest.routes.map((entry) => entry.file);
    expect(routeFiles).toEqual([
      "(marketing)/about.ts",
      "_middleware.ts",
      "api/v1/users.ts",
      "chat/[room].ts",
      "chat/lobby.ts",
      "index.ts",
    ]);
    expect(routeFiles).toEqual([...routeFiles].sort());
    expect(manifest.consumers.map((entry) => entry.file)).toEqual(["chat/[room].ts", "echo.ts"]);
  });

  it("imports each file's module", async () => {
    const root = await project("modules", {
      "routes/chat/[room].ts": route("room page"),
      "consumers/chat/[room].ts": consumer,
    });
    const manifest = await scanProject(root);
    expect(typeof manifest.routes[0]!.module.GET).toBe("function");
    expect(typeof manifest.consumers[0]!.module.default).toBe("function");

    // The scanned manifest is what createApp takes: the route answers, the consumer claims its path.
    const app = createApp({ manifest });
    expect(await (await app.request("/chat/lobby")).text()).toBe("room page");
    expect((await app.request("/chat/lobby", { headers: { Upgrade: "websocket" } })).status).toBe(501);
  });

  it("does not import test files, type declarations, _ or - files and folders, or non-source files", async () => {
    const root = await project("ignored", {
      "routes/index.ts": route("home"),
      "routes/_helpers.ts": throwing("_helpers.ts"),
      "routes/-draft.ts": throwing("-draft.ts"),
      "routes/_lib/db.ts": throwing("_lib/db.ts"),
      "routes/-old/page.ts": throwing("-old/page.ts"),
      "routes/chat/_lib/_middleware.ts": throwing("chat/_lib/_middleware.ts"),
      "routes/index.test.ts": throwing("index.test.ts"),
      "routes/page.spec.ts": throwing("page.spec.ts"),
      "routes/types.d.ts": throwing("types.d.ts"),
      "routes/README.md": "# not a route\n",
      "routes/data.json": "{ not even json",
      "consumers/echo.ts": consumer,
      "consumers/echo.test.ts": throwing("consumers/echo.test.ts"),
      "consumers/_shared.ts": throwing("consumers/_shared.ts"),
    });
    const manifest = await scanProject(root);
    expect(manifest.routes.map((entry) => entry.file)).toEqual(["index.ts"]);
    expect(manifest.consumers.map((entry) => entry.file)).toEqual(["echo.ts"]);
  });

  it("gives an empty list for a missing consumers/ folder", async () => {
    const root = await project("no-consumers", { "routes/index.ts": route("home") });
    const manifest = await scanProject(root);
    expect(manifest.consumers).toEqual([]);
    expect(manifest.routes.map((entry) => entry.file)).toEqual(["index.ts"]);
  });

  it("gives empty lists for a project with neither folder", async () => {
    const root = await project("empty", {});
    expect(await scanProject(root)).toEqual({ routes: [], consumers: [] });
  });

  it("reads the folders named in its options", async () => {
    const root = await project("custom-dirs", {
      "pages/about.ts": route("about"),
      "sockets/echo.ts": consumer,
      "routes/ignored.ts": throwing("routes/ignored.ts"),
    });
    const manifest = await scanProject(root, { routesDir: "pages", consumersDir: "sockets" });
    expect(manifest.routes.map((entry) => entry.file)).toEqual(["about.ts"]);
    expect(manifest.consumers.map((entry) => entry.file)).toEqual(["echo.ts"]);
  });

  it("refuses a route file that throws on import with IMPORT_FAILED naming the file", async () => {
    const root = await project("broken-route", {
      "routes/index.ts": route("home"),
      "routes/chat/broken.ts": throwing("broken on purpose"),
    });
    const error = await refusal(scanProject(root));
    expect(error.code).toBe("IMPORT_FAILED");
    expect(error.file).toBe("routes/chat/broken.ts");
    expect(error.message).toContain("routes/chat/broken.ts");
    expect(error.cause).toBeInstanceOf(Error);
  });

  it("refuses a consumer file that throws on import with IMPORT_FAILED naming the file", async () => {
    const root = await project("broken-consumer", { "consumers/broken.ts": throwing("broken on purpose") });
    const error = await refusal(scanProject(root));
    expect(error.code).toBe("IMPORT_FAILED");
    expect(error.file).toBe("consumers/broken.ts");
    expect(error.message).toContain("consumers/broken.ts");
  });

  it("does not follow a symbolic link to a file or folder outside the tree", async () => {
    const root = await project("symlinks", {
      "routes/index.ts": route("home"),
      "outside/secret.ts": route("secret"),
      "outside/dir/page.ts": route("page"),
    });
    await symlink(join(root, "outside/secret.ts"), join(root, "routes/secret.ts"));
    await symlink(join(root, "outside/dir"), join(root, "routes/linked"));
    const manifest = await scanProject(root);
    expect(manifest.routes.map((entry) => entry.file)).toEqual(["index.ts"]);
  });
});
