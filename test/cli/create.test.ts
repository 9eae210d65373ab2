/**
 * `create` end to end, without a terminal: for each runtime, a full project on each layer and a
 * minimal one are scaffolded into a temporary folder, installed, tested with their own tests,
 * started with the command their README gives, checked (/health, a WebSocket echo) and stopped.
 * Then the refusals (exit 2, nothing written) and the upgrade path.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { collectOutput } from "../_support/output.ts";
import { describeWithRedis } from "../_support/redis.ts";
import { connect } from "../server/_client.ts";
import { describeOnRuntime } from "../server/_runtimes.ts";

const template = join(import.meta.dir, "..", "..");
const createScript = join(template, "src", "cli", "create.ts");
const workspace = mkdtempSync(join(tmpdir(), "hono-channels-create-"));
afterAll(() => rmSync(workspace, { recursive: true, force: true }));

/** Runs a command to the end without a terminal; its exit code and output. */
async function run(command: string[], cwd: string, env: Record<string, string> = {}) {
  const child = Bun.spawn(command, {
    cwd,
    env: { ...process.env, ...env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  return { code, output: stdout + stderr };
}

const commands = {
  bun: { install: ["bun", "install"], test: ["bun", "run", "test"], start: "bun run start" },
  deno: {
    install: ["npm", "install", "--no-audit", "--no-fund"],
    test: ["deno", "task", "test"],
    start: "deno task start",
  },
  node: { install: ["npm", "install", "--no-audit", "--no-fund"], test: ["npm", "test"], start: "npm start" },
} as const;

/** Starts the project with its README's command in its own process group; stops the whole group. */
async function startProject(dir: string, command: string, env: Record<string, string>) {
  const child = Bun.spawn(["setsid", "bash", "-c", `exec ${command}`], {
    cwd: dir,
    env: { ...process.env, PORT: "0", HOST: "127.0.0.1", NO_COLOR: "1", ...env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const output = collectOutput(child.stdout, child.stderr);
  const stop = async () => {
    try {
      process.kill(-child.pid, "SIGTERM");
    } catch {}
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {}
    }, 5000);
    await child.exited;
    clearTimeout(timer);
  };
  try {
    const listening = await output.waitFor(/listening on (http:\/\/\S+)/, 1, 30_000);
    return { url: new URL(listening[1]!), output, stop };
  } catch (error) {
    await stop();
    throw new Error(`${command} did not listen: ${(error as Error).message}\n${output.text()}`);
  }
}

describeWithRedis("create", ({ url }) => {
  for (const runtime of ["bun", "deno", "node"] as const) {
    describeOnRuntime(runtime, `create --runtime ${runtime}`, () => {
      for (const variant of [
        { layer: "memory", minimal: false },
        { layer: "redis", minimal: false },
        { layer: "memory", minimal: true },
      ] as const) {
        const label = `${variant.layer}${variant.minimal ? ", --minimal" : ""}`;
        it(`scaffolds, installs, passes its own tests, starts, answers /health and echoes (${label})`, async () => {
          const dir = join(workspace, `${runtime}-${variant.layer}${variant.minimal ? "-minimal" : ""}`);
          const flags = [
            "--runtime",
            runtime,
            "--layer",
            variant.layer,
            ...(variant.minimal ? ["--minimal"] : []),
          ];
          const created = await run(["bun", createScript, dir, ...flags], workspace);
          expect(created).toMatchObject({ code: 0 });
          expect(created.output).toContain("Next:");
          expect(existsSync(join(dir, "bench"))).toBe(false);
          expect(existsSync(join(dir, "src", "cli", "create.ts"))).toBe(false);
          expect(existsSync(join(dir, "workers"))).toBe(!variant.minimal);
          const readme = readFileSync(join(dir, "README.md"), "utf8");
          const { install, test, start } = commands[runtime];
          expect(readme).toContain(start);

          const installed = await run([...install], dir);
          expect({ code: installed.code, output: installed.code === 0 ? "" : installed.output }).toEqual({
            code: 0,
            output: "",
          });
          const tested = await run([...test], dir);
          expect({ code: tested.code, output: tested.code === 0 ? "" : tested.output }).toEqual({
            code: 0,
            output: "",
          });

          const env: Record<string, string> =
            variant.layer === "redis" ? { REDIS_URL: url(), REDIS_PREFIX: `create-${runtime}` } : {};
          const server = await startProject(dir, start, env);
          try {
            const health = await fetch(new URL("/health", server.url));
            expect(await health.json()).toEqual({ status: "ok", layer: "up" });
            if (variant.layer === "redis")
              expect(server.output.text()).toContain("channel layer redis is up");
            const socket = await connect(new URL("/echo", server.url).href.replace(/^http/, "ws"));
            socket.send("hello");
            expect(await socket.next()).toBe("hello");
            socket.close();
          } finally {
            await server.stop();
          }
        }, 120_000);
      }
    });
  }
});

describe("bun create", () => {
  it("turns bun create's copy of the template into a project (the bun-create postinstall hook)", async () => {
    // bun create finds local templates in BUN_CREATE_DIR/<name>: a copy of this checkout, less its installs.
    const templates = join(workspace, "bun-create-templates");
    mkdirSync(join(templates, "hono-channels"), { recursive: true });
    const copied = await run(
      [
        "bash",
        "-c",
        `tar -C "$0" --exclude=./node_modules --exclude=./.git -cf - . | tar -C "$1" -xf -`,
        template,
        join(templates, "hono-channels"),
      ],
      workspace,
    );
    expect(copied.code).toBe(0);
    const dest = join(workspace, "from-bun-create");
    const created = await run(["bun", "create", "hono-channels", dest, "--no-git"], workspace, {
      BUN_CREATE_DIR: templates,
    });
    expect({ code: created.code, output: created.code === 0 ? "" : created.output }).toEqual({
      code: 0,
      output: "",
    });
    expect(existsSync(join(dest, "bench"))).toBe(false);
    expect(existsSync(join(dest, ".ci"))).toBe(false);
    expect(existsSync(join(dest, "src", "cli", "create.ts"))).toBe(false);
    const pkg = JSON.parse(readFileSync(join(dest, "package.json"), "utf8"));
    expect(pkg.name).toBe("from-bun-create");
    expect(pkg["bun-create"]).toBeUndefined();
    const tested = await run(["bun", "run", "test"], dest);
    expect({ code: tested.code, output: tested.code === 0 ? "" : tested.output }).toEqual({
      code: 0,
      output: "",
    });
  }, 120_000);

  it("refuses --in-place outside a fresh copy of the template, packed refs included", async () => {
    const result = await run(["bun", createScript, template, "--in-place"], workspace);
    expect(result.code).toBe(2);
    expect(result.output).toMatch(/git checkout with history|not a fresh copy/);
    expect(existsSync(join(template, "bench"))).toBe(true);
    // A clone whose refs are packed (after git gc) has no loose branch file: still a checkout with history.
    const clone = join(workspace, "packed-clone");
    expect((await run(["git", "clone", "-q", template, clone], workspace)).code).toBe(0);
    expect((await run(["git", "pack-refs", "--all"], clone)).code).toBe(0);
    writeFileSync(join(clone, "NOTES.md"), "mine");
    const packed = await run(["bun", createScript, ".", "--in-place", "--yes"], clone);
    expect(packed.code).toBe(2);
    expect(packed.output).toContain("git checkout with history");
    expect(readFileSync(join(clone, "NOTES.md"), "utf8")).toBe("mine");
    expect(existsSync(join(clone, "bench"))).toBe(true);
  });
});

describe("create refuses a bad request, writing nothing", () => {
  let target: string;
  beforeAll(() => {
    target = join(workspace, "refusals");
    mkdirSync(target);
    writeFileSync(join(target, "keep.txt"), "mine");
  });

  it.each([
    ["a folder that is not empty", () => [target], /is not empty/],
    ["an invalid name", () => [join(workspace, "Bad Name")], /not a valid project name/],
    ["an unknown option", () => [join(workspace, "x1"), "--colour"], /Unknown option --colour/],
    [
      "an unknown runtime",
      () => [join(workspace, "x2"), "--runtime", "python"],
      /--runtime must be one of bun, deno, node/,
    ],
    ["the template itself", () => [template, "--force"], /this template itself/],
    ["a file", () => [join(target, "keep.txt"), "--force"], /is a file, not a folder/],
  ])("%s: exit 2 and a clear message", async (_case, args, message) => {
    const result = await run(["bun", createScript, ...args()], workspace);
    expect(result.code).toBe(2);
    expect(result.output).toMatch(message);
    expect(readdirSync(target)).toEqual(["keep.txt"]);
    for (const name of ["Bad Name", "x1", "x2"]) expect(existsSync(join(workspace, name))).toBe(false);
  });

  it("writes into a folder that is not empty with --force, keeping the files already there", async () => {
    const result = await run(
      ["bun", createScript, target, "--force", "--minimal", "--name", "forced"],
      workspace,
    );
    expect(result.code).toBe(0);
    expect(readFileSync(join(target, "keep.txt"), "utf8")).toBe("mine");
    expect(JSON.parse(readFileSync(join(target, "package.json"), "utf8")).name).toBe("forced");
  });
});

describe("upgrade", () => {
  it("replaces src/ with the template's, lists what changed, and leaves the app's own files alone", async () => {
    const dir = join(workspace, "upgraded");
    expect((await run(["bun", createScript, dir, "--runtime", "bun", "--minimal"], workspace)).code).toBe(0);
    writeFileSync(join(dir, "src", "log.ts"), "// an old framework file\n");
    rmSync(join(dir, "src", "errors.ts"));
    // An older framework shipped src/gone.ts (the record says so); the newer one does not.
    writeFileSync(join(dir, "src", "gone.ts"), "// removed upstream\n");
    writeFileSync(
      join(dir, "src", ".framework-files"),
      `${readFileSync(join(dir, "src", ".framework-files"), "utf8")}src/gone.ts\n`,
    );
    // A file the user added under src/: never the framework's to delete.
    mkdirSync(join(dir, "src", "lib"));
    writeFileSync(join(dir, "src", "lib", "db.ts"), "// mine\n");
    writeFileSync(join(dir, "routes", "health.ts"), "// the app's own view\n");

    const dry = await run(["bun", "src/cli/upgrade.ts", template, "--dry-run"], dir);
    expect(dry.code).toBe(0);
    expect(dry.output).toContain("Dry run: nothing was written.");
    expect(existsSync(join(dir, "src", "gone.ts"))).toBe(true);

    const result = await run(["bun", "src/cli/upgrade.ts", template], dir);
    expect(result.code).toBe(0);
    expect(result.output).toMatch(/added\s+src\/errors\.ts/);
    expect(result.output).toMatch(/changed\s+src\/log\.ts/);
    expect(result.output).toMatch(/removed\s+src\/gone\.ts/);
    expect(result.output).toContain(`Read ${join(template, "CHANGES.md")}`);
    expect(readFileSync(join(dir, "src", "log.ts"), "utf8")).toBe(
      readFileSync(join(template, "src", "log.ts"), "utf8"),
    );
    expect(existsSync(join(dir, "src", "gone.ts"))).toBe(false);
    expect(result.output).toMatch(/kept\s+src\/lib\/db\.ts/);
    expect(readFileSync(join(dir, "src", "lib", "db.ts"), "utf8")).toBe("// mine\n");
    expect(readFileSync(join(dir, "src", ".framework-files"), "utf8")).not.toContain("src/gone.ts");
    expect(readFileSync(join(dir, "routes", "health.ts"), "utf8")).toBe("// the app's own view\n");
    expect((await run(["bun", "src/cli/upgrade.ts", join(workspace, "nowhere")], dir)).code).toBe(2);
  });
});
