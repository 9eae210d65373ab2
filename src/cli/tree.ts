/**
 * The framework's files as `create` copies them and `upgrade` replaces them: `src/`, less the
 * template's own scaffolding, which a project has no use for.
 */
import { readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";

/** Paths under `src/` that make projects (`create` and its helpers): never copied into one. */
export const TEMPLATE_ONLY = ["src/cli/create.ts", "src/cli/scaffold/"];

/** The framework files of a checkout or a project, `/`-separated from its root. */
export async function frameworkFiles(root: string): Promise<string[]> {
  const files = await listTree(root, "src");
  return files.filter(
    (path) =>
      path !== SHIPPED_RECORD && !TEMPLATE_ONLY.some((skip) => path === skip || path.startsWith(skip)),
  );
}

/** Files below `dir` of `root`, as `/`-separated paths from `root`; none if it does not exist. */
export async function listTree(root: string, dir: string): Promise<string[]> {
  if (!(await stat(join(root, dir)).catch(() => null))?.isDirectory()) return [];
  const files: string[] = [];
  for (const entry of await readdir(join(root, dir), { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) files.push(...(await listTree(root, path)));
    else if (entry.isFile()) files.push(path);
  }
  return files.sort();
}

/**
 * Where a project records the framework files it got (`create`, then each `upgrade`), so that
 * `upgrade` deletes only files the framework shipped, never one the user added under `src/`.
 */
export const SHIPPED_RECORD = "src/.framework-files";

/** The framework files `root` records as shipped; null if it has no record (an older project). */
export async function readShipped(root: string): Promise<string[] | null> {
  const text = await readFile(join(root, SHIPPED_RECORD), "utf8").catch(() => null);
  return text === null ? null : text.split("\n").filter((line) => line.startsWith("src/"));
}

/** The record's text for `files`. */
export function shippedRecord(files: readonly string[]): string {
  return `# Written by create and upgrade: the framework files this project got. upgrade deletes only these.\n${files.join("\n")}\n`;
}

/** Writes the record of `files` into `root`. */
export async function writeShipped(root: string, files: readonly string[]): Promise<void> {
  await writeFile(join(root, SHIPPED_RECORD), shippedRecord(files));
}
