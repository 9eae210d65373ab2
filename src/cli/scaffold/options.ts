/**
 * What `create` asks for, and the checks that refuse a bad request before anything is written.
 */

export const RUNTIMES = ["bun", "deno", "node"] as const;
export const LAYERS = ["memory", "redis"] as const;

/** A new project, fully decided. */
export interface ScaffoldOptions {
  /** Folder to create (or fill, with `force`). */
  target: string;
  /** package.json `name`. */
  name: string;
  /** Which commands the README leads with and which scripts the project gets. */
  runtime: (typeof RUNTIMES)[number];
  layer: (typeof LAYERS)[number];
  /** One page, the echo consumer, /health and one test; otherwise the full starter app. */
  minimal: boolean;
  /** Write into a folder that is not empty. */
  force: boolean;
  /** The target is a fresh copy of the template (`bun create`): turn it into the project. */
  inPlace: boolean;
}

/** A request `create` refuses: said plainly, exit code 2, nothing written. */
export class UsageError extends Error {}

// npm's rules: lowercase, URL-safe, at most 214 characters, optionally scoped.
const NAME = /^(?:@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*$/;

/** Throws `UsageError` if `name` cannot be a package name. */
export function assertName(name: string): void {
  if (name.length > 214 || !NAME.test(name)) {
    throw new UsageError(
      `"${name}" is not a valid project name: use lowercase letters, digits, "-", "." and "_" (an npm package name).`,
    );
  }
}

/** The flags `create` understands; anything else is a `UsageError`. */
export interface ParsedArgs {
  target?: string;
  runtime?: string;
  layer?: string;
  name?: string;
  minimal: boolean;
  force: boolean;
  yes: boolean;
  help: boolean;
  inPlace: boolean;
}

/** Parses `argv` (without the runtime and script). */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  const parsed: ParsedArgs = { minimal: false, force: false, yes: false, help: false, inPlace: false };
  const valued = { "--runtime": "runtime", "--layer": "layer", "--name": "name" } as const;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.startsWith("--") ? (arg.split(/=(.*)/s, 2) as [string, string?]) : [arg];
    if (flag in valued) {
      const value = inline ?? argv[++i];
      if (value === undefined || value.startsWith("--")) throw new UsageError(`${flag} needs a value.`);
      parsed[valued[flag as keyof typeof valued]] = value;
    } else if (flag === "--minimal" || flag === "--force" || flag === "--yes" || flag === "--help") {
      parsed[flag.slice(2) as "minimal" | "force" | "yes" | "help"] = true;
    } else if (flag === "--in-place") {
      parsed.inPlace = true;
    } else if (flag === "-h") {
      parsed.help = true;
    } else if (arg.startsWith("-")) {
      throw new UsageError(`Unknown option ${arg}.`);
    } else if (parsed.target === undefined) {
      parsed.target = arg;
    } else {
      throw new UsageError(`One target folder only (got "${parsed.target}" and "${arg}").`);
    }
  }
  return parsed;
}

/** Checks a value against its choices. */
export function choice<T extends string>(flag: string, value: string, choices: readonly T[]): T {
  if (!choices.includes(value as T))
    throw new UsageError(`${flag} must be one of ${choices.join(", ")} (got "${value}").`);
  return value as T;
}

export const USAGE = `Usage: create TARGET [options]

Creates a Hono Channels project in TARGET.

  --runtime bun|deno|node   the runtime its scripts and README use (default: the one running this)
  --layer memory|redis      the channel layer it starts with (default memory)
  --minimal                 one page, the echo consumer at /echo, /health and one test
  --name NAME               package name (default: TARGET's folder name)
  --force                   write into a folder that is not empty
  --yes                     ask nothing, take the defaults (also when there is no terminal)
  --in-place                TARGET is a fresh copy of this template (what bun create makes):
                            turn it into the project (bun create runs this for you)
`;
