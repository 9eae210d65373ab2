/**
 * The three runtimes the server contract runs on, and how to start the template's entry point on
 * each. A runtime missing from PATH skips its suite locally and fails it under CI=true.
 */
import { describe, it } from "bun:test";
import { join } from "node:path";

export type RuntimeName = "bun" | "deno" | "node";

const root = join(import.meta.dir, "..", "..");
const main = join(root, "src", "main.ts");

/** The command line that runs `src/main.ts` on a runtime, as the package scripts do. */
export function commandFor(runtime: RuntimeName): string[] {
  switch (runtime) {
    case "bun":
      return [Bun.which("bun") ?? process.execPath, main];
    case "deno":
      return [
        "deno",
        "run",
        "--allow-net",
        "--allow-env",
        "--allow-read",
        "--allow-sys",
        `--config=${join(root, "deno.json")}`,
        main,
      ];
    case "node":
      return ["node", "--import", join(root, "node_modules", "tsx", "dist", "esm", "index.mjs"), main];
  }
}

/** Whether the runtime can be started here. */
export function isAvailable(runtime: RuntimeName): boolean {
  return Bun.which(runtime) !== null;
}

/**
 * `describe` for a runtime's suite: runs it when the runtime is installed; otherwise skips it with
 * one line saying why, or, under CI, fails so a missing runtime cannot pass unnoticed.
 */
export function describeOnRuntime(runtime: RuntimeName, name: string, suite: () => void): void {
  if (isAvailable(runtime)) {
    describe(name, suite);
  } else if (process.env.CI) {
    describe(name, () => {
      it(`needs ${runtime} on PATH (CI=true: a missing runtime fails)`, () => {
        throw new Error(`${runtime} is not installed; .ci/run installs it with npm install -g ${runtime}`);
      });
    });
  } else {
    console.warn(`skipping ${name}: ${runtime} is not on PATH (npm install -g ${runtime})`);
    describe.skip(name, suite);
  }
}
