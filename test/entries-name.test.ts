/**
 * The framework's name: `hono-channels` (and its `/redis` and `/integration` entries) resolves to
 * the same modules as `src/` on Bun, Deno and Node, so user code never imports by relative path and
 * shares the framework's state (the installed layer, the settings) with the server.
 */
import { expect, it } from "bun:test";
import { join } from "node:path";
import { describeOnRuntime, type RuntimeName } from "./server/_runtimes.ts";

const root = join(import.meta.dir, "..");
const script = `
  import * as byName from "hono-channels";
  import * as byPath from "./src/index.ts";
  import { RedisChannelLayer } from "hono-channels/redis";
  import { setChannelLayer } from "hono-channels/integration";
  const layer = new byPath.InMemoryChannelLayer();
  setChannelLayer(layer);
  console.log(byName.getChannelLayer === byPath.getChannelLayer, byName.getChannelLayer() === layer, typeof RedisChannelLayer);
`;

const commands: Record<RuntimeName, string[]> = {
  bun: ["bun", "--eval", script],
  deno: ["deno", "eval", `--config=${join(root, "deno.json")}`, "--ext=ts", script],
  node: [
    "node",
    "--import",
    join(root, "node_modules", "tsx", "dist", "esm", "index.mjs"),
    "--input-type=module",
    "--eval",
    script,
  ],
};

for (const [runtime, command] of Object.entries(commands) as Array<[RuntimeName, string[]]>) {
  describeOnRuntime(runtime, `import "hono-channels" on ${runtime}`, () => {
    it("resolves to src/: one module, sharing the server's state", () => {
      const child = Bun.spawnSync(command, { cwd: root, stdout: "pipe", stderr: "pipe" });
      expect(child.stderr.toString()).toBe("");
      expect(child.stdout.toString().trim()).toBe("true true function");
    });
  });
}
