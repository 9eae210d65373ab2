/**
 * `npm run routes` (src/cli/routes.ts) on a project whose modules start timers at import, as a
 * module-level setInterval would: the command prints the table, workers and tasks included, and exits.
 */
import { afterAll, describe, expect, it } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const routesScript = join(import.meta.dir, "..", "..", "src", "cli", "routes.ts");
const src = join(import.meta.dir, "..", "..", "src", "index.ts");
const project = mkdtempSync(join(tmpdir(), "hono-channels-routes-"));
afterAll(() => rmSync(project, { recursive: true, force: true }));

describe("npm run routes", () => {
  it("prints routes, workers and tasks and exits, whatever timers a module started", async () => {
    for (const dir of ["routes", "workers", "tasks"]) mkdirSync(join(project, dir));
    writeFileSync(
      join(project, "routes", "ticker.ts"),
      'setInterval(() => {}, 1000);\nexport const GET = () => new Response("tick");\n',
    );
    writeFileSync(
      join(project, "workers", "mail.ts"),
      `import { Worker } from ${JSON.stringify(src)};\nexport default class Mail extends Worker {}\n`,
    );
    writeFileSync(
      join(project, "tasks", "cleanup.ts"),
      'export const every = "5m";\nexport default () => {};\n',
    );
    const child = Bun.spawn(["bun", routesScript], { cwd: project, stdout: "pipe", stderr: "pipe" });
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    const exitCode = await child.exited;
    clearTimeout(timer);
    const output = await new Response(child.stdout).text();
    expect(exitCode).toBe(0);
    expect(output).toContain("/ticker");
    expect(output).toMatch(/worker\s+mail\s+workers\/mail\.ts/);
    expect(output).toMatch(/task\s+every 300 s\s+tasks\/cleanup/);
  });
});
