/**
 * The app under test for the starter's own tests: this project's routes and consumers, with its
 * middleware, through `TestClient` (no server, no network). Copied into every new project's
 * `test/`; written with `node:test` so `bun test`, `deno test` and `tsx --test` all run it.
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { InMemoryChannelLayer, TestClient } from "hono-channels";
import { scanProject } from "hono-channels/integration";

/** The project root: the nearest folder above this file holding package.json. */
function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json"))) dir = dirname(dir);
  return dir;
}

/** A fresh app with its own in-memory layer. */
export async function startApp(): Promise<{ client: TestClient; layer: InMemoryChannelLayer }> {
  const layer = new InMemoryChannelLayer();
  const client = new TestClient({ manifest: await scanProject(projectRoot()), layer });
  return { client, layer };
}
