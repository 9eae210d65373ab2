/**
 * Which files a new project holds and where they come from: the framework (`src/`, without the
 * template's own scaffolding), the starter app or its minimal cut, the starter's tests, and the
 * generated files. Not the template's benchmarks, CI or framework test suite.
 */
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { frameworkFiles, listTree, SHIPPED_RECORD, shippedRecord } from "../tree.ts";
import {
  BUNFIG,
  denoJson,
  GITIGNORE,
  MINIMAL_INDEX,
  packageJson,
  readme,
  type TemplateVersions,
  tsconfigJson,
} from "./generated.ts";
import type { ScaffoldOptions } from "./options.ts";

/** One file of the new project: copied from the template, or written from `content`. */
export interface PlannedFile {
  path: string;
  from?: string;
  content?: string | Uint8Array;
}

/** The starter's test files, and the ones a minimal project keeps. */
const STARTER_TESTS = "test/starter";
const MINIMAL_TESTS = ["_app.ts", "app.test.ts"];

/** Every file of the new project, in a stable order. */
export async function planProject(template: string, options: ScaffoldOptions): Promise<PlannedFile[]> {
  const versions = JSON.parse(await readFile(join(template, "package.json"), "utf8")) as TemplateVersions;
  const copy = (path: string, to = path): PlannedFile => ({ path: to, from: join(template, path) });
  const files: PlannedFile[] = [];
  const framework = await frameworkFiles(template);
  for (const path of framework) files.push(copy(path));
  files.push({ path: SHIPPED_RECORD, content: shippedRecord(framework) });
  if (options.minimal) {
    files.push(copy("routes/_layout.ts"), copy("routes/health.ts"), copy("consumers/echo.ts"));
    files.push({ path: "routes/index.ts", content: MINIMAL_INDEX });
  } else {
    for (const tree of ["routes", "consumers", "workers", "tasks"]) {
      for (const path of await listTree(template, tree)) files.push(copy(path));
    }
    files.push(copy("docs/architecture.md"), copy("SECURITY.md"));
  }
  for (const path of await listTree(template, STARTER_TESTS)) {
    const file = path.slice(STARTER_TESTS.length + 1);
    if (!options.minimal || MINIMAL_TESTS.includes(file)) files.push(copy(path, `test/${file}`));
  }
  files.push(
    { path: "package.json", content: packageJson(options, versions) },
    { path: "deno.json", content: denoJson(options) },
    { path: "tsconfig.json", content: tsconfigJson() },
    { path: "bunfig.toml", content: BUNFIG },
    { path: ".gitignore", content: GITIGNORE },
    { path: "README.md", content: readme(options) },
  );
  return files.sort((a, b) => (a.path < b.path ? -1 : 1));
}

/** Writes the planned files under `target`. */
export async function writeProject(target: string, files: PlannedFile[]): Promise<void> {
  for (const file of files) {
    const to = join(target, file.path);
    await mkdir(dirname(to), { recursive: true });
    await writeFile(to, file.content ?? (await readFile(file.from!)));
  }
}

/**
 * Turns `dir`, a fresh copy of the template (what `bun create` makes), into the project: reads the
 * planned files first (they come from `dir` itself), then removes everything but `node_modules`
 * and `.git`, then writes them.
 */
export async function replaceInPlace(dir: string, files: PlannedFile[]): Promise<void> {
  const contents = await Promise.all(
    files.map(async (file) => ({ path: file.path, content: file.content ?? (await readFile(file.from!)) })),
  );
  for (const entry of await readdir(dir)) {
    if (entry !== "node_modules" && entry !== ".git")
      await rm(join(dir, entry), { recursive: true, force: true });
  }
  await writeProject(dir, contents);
}
