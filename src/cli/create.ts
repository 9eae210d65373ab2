/**
 * `create TARGET`: a new Hono Channels project from this template. Runs under `bun`,
 * `deno run -A` and Node (`npx tsx`):
 *
 *   bun src/cli/create.ts ../my-app --runtime bun --layer redis
 *
 * In a terminal it asks for what the flags leave open (through @clack/prompts); without one, or
 * with `--yes`, it takes the defaults and never waits. A bad request (a folder that is not empty
 * without `--force`, an invalid name, an unknown option) is said plainly with exit code 2, and
 * nothing is written.
 */
import { readdir, stat } from "node:fs/promises";
import { basename, dirname, join, relative, resolve } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import {
  assertName,
  choice,
  LAYERS,
  parseArgs,
  RUNTIMES,
  type ScaffoldOptions,
  USAGE,
  UsageError,
} from "./scaffold/options.ts";
import { planProject, replaceInPlace, writeProject } from "./scaffold/project.ts";

const template = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** The runtime running this command: the default for the project's. */
function currentRuntime(): ScaffoldOptions["runtime"] {
  if ("Bun" in globalThis) return "bun";
  if ("Deno" in globalThis) return "deno";
  return "node";
}

/** Turns flags (and answers, in a terminal) into a full request; throws `UsageError`. */
async function decide(argv: readonly string[]): Promise<ScaffoldOptions | null> {
  const args = parseArgs(argv);
  if (args.help) return null;
  const interactive = !args.yes && process.stdin.isTTY === true && process.stdout.isTTY === true;
  const ask = interactive ? await import("./scaffold/prompts.ts") : null;
  const target = args.target ?? (await ask?.target()) ?? null;
  if (!target) throw new UsageError("Say where to create the project: create TARGET.");
  const name = args.name ?? basename(resolve(target));
  assertName(name);
  const options: ScaffoldOptions = {
    target: resolve(target),
    name,
    runtime: choice(
      "--runtime",
      args.runtime ?? (await ask?.runtime(currentRuntime())) ?? currentRuntime(),
      RUNTIMES,
    ),
    layer: choice("--layer", args.layer ?? (await ask?.layer()) ?? "memory", LAYERS),
    minimal: args.minimal || ((await ask?.minimal()) ?? false),
    force: args.force,
    inPlace: args.inPlace,
  };
  if (options.inPlace) {
    await assertFreshCopy(options.target);
    return options;
  }
  if (options.target === template)
    throw new UsageError("The target is this template itself: choose another folder.");
  const kind = await stat(options.target).catch(() => null);
  if (kind && !kind.isDirectory()) throw new UsageError(`${target} is a file, not a folder.`);
  const existing = await readdir(options.target).catch(() => []);
  if (existing.length > 0 && !options.force) {
    throw new UsageError(`${target} is not empty. Choose an empty folder, or pass --force to write into it.`);
  }
  return options;
}

/**
 * `--in-place` removes what a project does not need: only in a fresh copy of the template, never
 * in a checkout with history (the template's own clone, or a project).
 */
async function assertFreshCopy(dir: string): Promise<void> {
  const isTemplate = await Promise.all(
    ["src/cli/create.ts", "bench", ".ci/run"].map((path) =>
      stat(join(dir, path)).then(
        () => true,
        () => false,
      ),
    ),
  );
  if (!isTemplate.every(Boolean))
    throw new UsageError(`--in-place: ${dir} is not a fresh copy of the template.`);
  // Any repository with a commit (loose or packed refs, a worktree's .git file, reftable) is
  // somebody's work: only a copy with no .git, or a repository with no commit yet, is turned over.
  const git = await stat(join(dir, ".git")).catch(() => null);
  if (git && !(await hasNoCommit(dir))) {
    throw new UsageError(`--in-place: ${dir} is a git checkout with history; create a new project instead.`);
  }
}

/** True if git says `dir`'s repository has no commit; false if it has one or git cannot tell. */
async function hasNoCommit(dir: string): Promise<boolean> {
  const { spawnSync } = await import("node:child_process");
  const head = spawnSync("git", ["rev-parse", "--verify", "--quiet", "HEAD"], { cwd: dir, stdio: "ignore" });
  return head.status === 1;
}

async function main(): Promise<void> {
  let options: ScaffoldOptions | null;
  try {
    options = await decide(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`${error.message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (!options) {
    console.log(USAGE);
    return;
  }
  const files = await planProject(options.inPlace ? options.target : template, options);
  const overwritten = options.inPlace
    ? []
    : (
        await Promise.all(
          files.map(async ({ path }) =>
            (await stat(join(options.target, path)).catch(() => null)) ? path : null,
          ),
        )
      ).filter((path) => path !== null);
  if (options.inPlace) await replaceInPlace(options.target, files);
  else await writeProject(options.target, files);
  if (overwritten.length > 0)
    console.log(`Overwrote ${overwritten.length} existing file(s): ${overwritten.join(", ")}`);
  const where = relative(process.cwd(), options.target) || ".";
  const run = { bun: "bun run", deno: "deno task", node: "npm run" }[options.runtime];
  const install = options.runtime === "bun" ? "bun install" : "npm install";
  console.log(
    [
      `Created ${options.name} in ${where} (${files.length} files; ${options.runtime}, ${options.layer} layer${options.minimal ? ", minimal" : ""}).`,
      "",
      "Next:",
      `  cd ${where}`,
      `  ${install}`,
      `  ${run} dev      # http://localhost:8000`,
      `  ${options.runtime === "node" ? "npm" : run} test`,
      ...(options.layer === "redis"
        ? ["", "It uses Redis: start one, or set REDIS_URL (default redis://127.0.0.1:6379)."]
        : []),
    ].join("\n"),
  );
}

await main();
