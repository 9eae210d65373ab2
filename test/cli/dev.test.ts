import { afterAll, describe, expect, it } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { collectOutput } from "../_support/output.ts";

const devScript = join(import.meta.dir, "..", "..", "src", "cli", "dev.ts");
const project = mkdtempSync(join(tmpdir(), "hono-channels-dev-"));
afterAll(() => rmSync(project, { recursive: true, force: true }));

describe("bun run dev (src/cli/dev.ts)", () => {
  it("restarts the server when a route file is added, and stops cleanly on SIGTERM", async () => {
    mkdirSync(join(project, "routes"));
    writeFileSync(join(project, "routes", "first.ts"), 'export const GET = () => new Response("first");\n');
    const child = Bun.spawn(["bun", devScript], {
      cwd: project,
      env: { ...process.env, PORT: "0", HOST: "127.0.0.1" },
      stdout: "pipe",
      stderr: "pipe",
    });
    const output = collectOutput(child.stdout, child.stderr);
    try {
      const first = await output.waitFor(/listening on (http:\S+)/, 1);
      expect(await (await fetch(new URL("/first", first[1]))).text()).toBe("first");

      // bun --watch alone would miss this: the new file was never imported.
      writeFileSync(
        join(project, "routes", "second.ts"),
        'export const GET = () => new Response("second");\n',
      );
      const second = await output.waitFor(/listening on (http:\S+)/, 2);
      expect(await (await fetch(new URL("/second", second[1]))).text()).toBe("second");

      child.kill("SIGTERM");
      expect(await child.exited).toBe(0);
    } finally {
      child.kill("SIGKILL");
    }
  });
});
