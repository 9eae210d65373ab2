/**
 * The framework's files as `create` copies them and `upgrade` replaces them: `src/`, less the
 * template's own scaffolding, which a project has no use for.
 */
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";

/** Paths under `src/` that make projects (`create` and its helpers): never copied into one. */
export const TEMPLATE_ONLY = ["src/cli/create.ts", "src/cli/scaffold/"];

/** The framework files of a checkout or a project, `/`-separated from its root. */
export async function frameworkFiles(root: string): Promise<string[]> {
  const files = await listTree(root, "src");
  return files.filter((path) => !TEMPLATE_ONLY.some((skip) => path === skip || path.startsWith(skip)));
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
