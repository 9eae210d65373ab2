/**
 * The public entries: what importing each one loads. A consumer file imports `src/index.ts`, so
 * that entry must not pull in ioredis (only `src/redis.ts` does, or the server when configured),
 * and plumbing stays in `src/integration.ts`.
 */
import { describe, expect, it } from "bun:test";
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

const src = join(import.meta.dir, "..", "src");

/**
 * Every module a static (non-type) import of `entry` evaluates: relative `.ts` files followed,
 * packages recorded by name. `import type` / `export type` are erased and load nothing; a dynamic
 * `import()` loads only when called, so it is not followed.
 */
function staticGraph(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    const code = readFileSync(file, "utf8");
    for (const [, clause, specifier] of code.matchAll(
      /^(?:import|export)\s+([^;]*?)\s*from\s+"([^"]+)";/gms,
    )) {
      if (/^type\s/.test(clause!)) continue;
      if (specifier!.startsWith(".")) visit(resolve(dirname(file), specifier!));
      else
        packages.add(
          specifier!.startsWith("@")
            ? specifier!.split("/").slice(0, 2).join("/")
            : specifier!.split("/")[0]!,
        );
    }
  };
  visit(entry);
  return { files, packages };
}

describe("public entries", () => {
  it("src/index.ts never loads ioredis; src/redis.ts does", () => {
    expect(staticGraph(join(src, "index.ts")).packages.has("ioredis")).toBe(false);
    expect(staticGraph(join(src, "redis.ts")).packages.has("ioredis")).toBe(true);
  });

  it("importing src/index.ts at run time leaves ioredis unloaded", async () => {
    // The same check at run time, in a fresh Bun process: its module registry is the truth.
    const script = `await import(${JSON.stringify(join(src, "index.ts"))});
      const loaded = Object.keys(require.cache).filter((path) => path.includes("/ioredis/"));
      console.log(JSON.stringify(loaded.length));`;
    const child = Bun.spawnSync(["bun", "-e", script], { stdout: "pipe", stderr: "pipe" });
    expect(child.stderr.toString()).toBe("");
    expect(JSON.parse(child.stdout.toString())).toBe(0);
  });

  it("keeps plumbing out of the user-facing entry", async () => {
    const plumbing = [
      "ConnectionSet",
      "scanProject",
      "getRuntime",
      "setChannelLayer",
      "DeliveryLayer",
      "Hub",
    ];
    const index = Object.keys(await import("../src/index.ts"));
    const integration = Object.keys(await import("../src/integration.ts"));
    for (const name of plumbing) {
      expect(index).not.toContain(name);
      expect(integration).toContain(name);
    }
  });
});
