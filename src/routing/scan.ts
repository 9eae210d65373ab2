/**
 * Discovery: the only module that reads the file system. Walks `routes/` and `consumers/`,
 * imports every file that can be a route or middleware, and returns a manifest.
 */
import type { Dirent } from "node:fs";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { RouteError } from "../errors.ts";
import type { Manifest, ManifestEntry } from "./manifest.ts";
import { classifyFile } from "./path.ts";

/** Where the two trees live, relative to the project root. */
export interface ScanOptions {
  routesDir?: string;
  consumersDir?: string;
}

/** Scans both trees under `root` and imports their modules. */
export async function scanProject(root: string, options: ScanOptions = {}): Promise<Manifest> {
  const routesDir = options.routesDir ?? "routes";
  const consumersDir = options.consumersDir ?? "consumers";
  const [routes, consumers] = await Promise.all([
    scanTree(join(root, routesDir), routesDir),
    scanTree(join(root, consumersDir), consumersDir),
  ]);
  return { routes, consumers };
}

/** Imports every route and middleware file below `directory`; a missing folder is an empty tree. */
export async function scanTree(directory: string, label = directory): Promise<ManifestEntry[]> {
  const files = (await listFiles(directory)).filter((file) => classifyFile(file) !== "ignored");
  return Promise.all(
    files.map(async (file) => {
      try {
        const module = await import(pathToFileURL(join(directory, file)).href);
        return { file, module: module as Record<string, unknown> };
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        throw new RouteError("IMPORT_FAILED", `${label}/${file}`, `Could not import it: ${reason}`, {
          cause: error,
        });
      }
    }),
  );
}

/**
 * Lists files below `directory` as `/`-separated relative paths, each folder sorted by name (the
 * order is stable; resolveManifest orders routes by specificity anyway). Symbolic links are not
 * followed, so nothing outside the tree can become a route.
 */
async function listFiles(directory: string, prefix = ""): Promise<string[]> {
  let entries: Dirent[];
  try {
    entries = await readdir(join(directory, prefix), { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  const files: string[] = [];
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const path = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory() && !entry.name.startsWith(".") && entry.name !== "node_modules") {
      files.push(...(await listFiles(directory, path)));
    } else if (entry.isFile()) {
      files.push(path);
    }
  }
  return files;
}
