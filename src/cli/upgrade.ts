/**
 * `upgrade FROM`: takes a newer framework into this project. FROM is a newer checkout of the
 * template (a clone, or `bun create`'s copy); its `src/` replaces this project's `src/`, file by
 * file, and every added, changed and removed file is listed. Only files the framework shipped are
 * removed (`src/.framework-files` records them); a file you added under `src/` is kept. Nothing
 * outside `src/` is touched:
 * routes, consumers, workers, tasks and tests are yours. Dependencies whose versions differ are
 * listed for you to take, and FROM's CHANGES.md is pointed to: what a newer framework may need from
 * the app. `--dry-run` lists without writing. Commit first; review with `git diff`.
 *
 *   npm run upgrade -- ../hono-channels      (bun run upgrade ..., deno task upgrade ...)
 */
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import process from "node:process";
import { frameworkFiles, readShipped, SHIPPED_RECORD, writeShipped } from "./tree.ts";

/** The newer template's list of changes that may need the app's attention. */
const CHANGES = "CHANGES.md";

interface Change {
  path: string;
  /** `kept`: not in the newer template, and not a file the framework shipped: the user's own. */
  kind: "added" | "changed" | "removed" | "kept";
}

async function changes(project: string, from: string): Promise<Change[]> {
  const [ours, theirs, shipped] = await Promise.all([
    frameworkFiles(project),
    frameworkFiles(from),
    readShipped(project),
  ]);
  const list: Change[] = [];
  for (const path of theirs) {
    const mine = await readFile(join(project, path)).catch(() => null);
    if (!mine) list.push({ path, kind: "added" });
    else if (!mine.equals(await readFile(join(from, path)))) list.push({ path, kind: "changed" });
  }
  for (const path of ours) {
    if (theirs.includes(path) || path === SHIPPED_RECORD) continue;
    // Without a record (a project older than it), nothing is deleted.
    list.push({ path, kind: shipped?.includes(path) ? "removed" : "kept" });
  }
  return list.sort((a, b) => (a.path < b.path ? -1 : 1));
}

/** Dependencies the newer template pins differently: `name: ours -> theirs`. */
async function dependencyAdvice(project: string, from: string): Promise<string[]> {
  const read = async (root: string) =>
    JSON.parse(await readFile(join(root, "package.json"), "utf8")) as {
      dependencies?: Record<string, string>;
    };
  const [ours, theirs] = await Promise.all([read(project), read(from)]);
  return Object.entries(theirs.dependencies ?? {})
    .filter(([name, version]) => ours.dependencies?.[name] !== version)
    .map(([name, version]) => `${name}: ${ours.dependencies?.[name] ?? "(none)"} -> ${version}`);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const dryRun = args.includes("--dry-run");
  const unknown = args.filter((arg) => arg.startsWith("-") && arg !== "--dry-run");
  const fromArg = args.find((arg) => !arg.startsWith("-"));
  const project = process.cwd();
  const problem =
    unknown.length > 0
      ? `Unknown option ${unknown[0]}.`
      : !fromArg
        ? "Say where the newer template is: upgrade FROM [--dry-run]."
        : null;
  if (problem) fail(problem);
  const from = resolve(fromArg!);
  for (const [root, what] of [
    [from, `${fromArg} is not a Hono Channels checkout`],
    [project, "run upgrade from your project's folder"],
  ] as const) {
    if (!(await readFile(join(root, "src", "index.ts")).catch(() => null)))
      fail(`${what} (no src/index.ts).`);
  }
  if (from === project) fail("FROM is this project itself.");

  const list = await changes(project, from);
  for (const { path, kind } of list) console.log(`${kind.padEnd(8)} ${path}`);
  if (list.length === 0) console.log("src/ is already the same as the template's.");
  if (!dryRun) {
    for (const { path, kind } of list) {
      if (kind === "kept") continue;
      if (kind === "removed") await rm(join(project, path));
      else {
        await mkdir(dirname(join(project, path)), { recursive: true });
        await writeFile(join(project, path), await readFile(join(from, path)));
      }
    }
    await writeShipped(project, await frameworkFiles(from));
  }
  const advice = await dependencyAdvice(project, from);
  if (advice.length > 0)
    console.log(`\nThe template pins other versions; update package.json:\n  ${advice.join("\n  ")}`);
  const updated = list.filter(({ kind }) => kind !== "kept").length;
  if (list.some(({ kind }) => kind === "kept")) {
    console.log("\nkept: files under src/ the framework did not ship (yours); they stay as they are.");
  }
  // What a newer framework may ask of the app (a changed wire, a renamed hook) is said there.
  if (await readFile(join(from, CHANGES)).catch(() => null)) {
    console.log(`\nRead ${join(fromArg!, CHANGES)}: changes that may need something from your app.`);
  }
  console.log(
    dryRun ? "\nDry run: nothing was written." : `\n${updated} file(s) updated. Review with git diff.`,
  );
}

function fail(message: string): never {
  console.error(`${message}\n\nUsage: upgrade FROM [--dry-run]`);
  process.exit(2);
}

await main();
