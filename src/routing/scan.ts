/**
 * Discovery: the only module that reads the file system. Walks `routes/` and `consumers/`,
 * imports every file that can be a route or middleware, and returns a manifest; walks `workers/`
 * and `tasks/` for background work.
 */
import type { Dirent } from "node:fs";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { RouteError } from "../errors.ts";
import type { ChannelLayer } from "../layers/layer.ts";
import type { Logger } from "../log.ts";
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

/** The background trees: workers (consumers of named channels) and periodic tasks. */
export interface BackgroundManifest {
  workers: ManifestEntry[];
  tasks: ManifestEntry[];
}

/** Scans `workers/` and `tasks/` under `root`; middleware files mean nothing there and are skipped. */
export async function scanBackground(root: string): Promise<BackgroundManifest> {
  const [workers, tasks] = await Promise.all(
    ["workers", "tasks"].map((dir) =>
      scanTree(join(root, dir), dir, (file) => classifyFile(file) === "route"),
    ),
  );
  return { workers: workers!, tasks: tasks! };
}

/** What `lifecycle.ts` at the project root exports, if there is one. */
export interface LifecycleHooks {
  /** Runs after the layer is up and before the server listens: open pools, warm caches. */
  startup?: (context: { layer: ChannelLayer; logger: Logger }) => unknown;
  /** Runs after the last connection closed and background work stopped, before the layer closes. */
  shutdown?: (context: { layer: ChannelLayer; logger: Logger }) => unknown;
}

/** Imports `lifecycle.ts` (or .js) under `root`; none is no hooks. */
export async function scanLifecycle(root: string): Promise<LifecycleHooks> {
  const entries = await scanTree(root, ".", (file) => /^lifecycle\.[cm]?[jt]s$/.test(file), false);
  const module = entries[0]?.module ?? {};
  for (const name of ["startup", "shutdown"]) {
    if (module[name] !== undefined && typeof module[name] !== "function") {
      throw new RouteError("NO_HANDLER", entries[0]!.file, `export ${name} must be a function.`);
    }
  }
  return module as LifecycleHooks;
}

/** Imports every route and middleware file below `directory`; a missing folder is an empty tree. */
export async function scanTree(
  directory: string,
  label = directory,
  keep: (file: string) => boolean = (file) => classifyFile(file) !== "ignored",
  deep = true,
): Promise<ManifestEntry[]> {
  const files = (await listFiles(directory, "", deep)).filter(keep);
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
async function listFiles(directory: string, prefix = "", deep = true): Promise<string[]> {
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
    if (deep && entry.isDirectory() && !entry.name.startsWith(".") && entry.name !== "node_modules") {
      files.push(...(await listFiles(directory, path)));
    } else if (entry.isFile()) {
      files.push(path);
    }
  }
  return files;
}
