/**
 * The files a new project gets written for it rather than copied: its package.json, deno.json,
 * tsconfig.json, bunfig.toml, .gitignore and README, shaped by the runtime and layer it chose.
 */
import type { ScaffoldOptions } from "./options.ts";

/** What the template's own package.json pins, so a new project gets the same versions. */
export interface TemplateVersions {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
}

type Scripts = Record<"dev" | "start" | "routes" | "worker" | "test" | "upgrade", string>;

const PERMISSIONS = "--allow-net --allow-env --allow-read --allow-sys";
const WATCHED = "--include 'routes/**' --include 'consumers/**' --include 'workers/**' --include 'tasks/**'";

/** The commands of each runtime. With the Redis layer, the server and workers start on it. */
function scriptsFor({ runtime, layer }: ScaffoldOptions): Scripts {
  // npm and bun run scripts through sh, where the environment can still choose another layer;
  // Deno's task shell has no `${VAR:-default}`, so there the scripts decide (the README says so).
  const env =
    layer !== "redis"
      ? ""
      : runtime === "deno"
        ? "CHANNEL_LAYER=redis "
        : // biome-ignore lint/suspicious/noTemplateCurlyInString: sh's own ${VAR:-default}, for the script
          "CHANNEL_LAYER=${CHANNEL_LAYER:-redis} ";
  switch (runtime) {
    case "bun":
      return {
        dev: `${env}bun src/cli/dev.ts`,
        start: `${env}bun src/main.ts`,
        routes: "bun src/cli/routes.ts",
        worker: `${env}bun src/cli/worker.ts`,
        test: "bun test",
        upgrade: "bun src/cli/upgrade.ts",
      };
    case "deno":
      return {
        dev: `${env}deno run ${PERMISSIONS} --watch=routes/,consumers/,workers/,tasks/,src/ src/main.ts`,
        start: `${env}deno run ${PERMISSIONS} src/main.ts`,
        routes: "deno run --allow-env --allow-read src/cli/routes.ts",
        worker: `${env}deno run ${PERMISSIONS} src/cli/worker.ts`,
        test: "deno test -A --no-check test/",
        upgrade: "deno run --allow-read --allow-write --allow-env src/cli/upgrade.ts",
      };
    case "node":
      return {
        dev: `${env}tsx watch --clear-screen=false ${WATCHED} src/main.ts`,
        start: `${env}tsx src/main.ts`,
        routes: "tsx src/cli/routes.ts",
        worker: `${env}tsx src/cli/worker.ts`,
        test: "tsx --test test/*.test.ts",
        upgrade: "tsx src/cli/upgrade.ts",
      };
  }
}

/** How the README says to run each command. */
function commandsFor(runtime: ScaffoldOptions["runtime"]): Record<keyof Scripts | "install", string> {
  const run = { bun: "bun run", deno: "deno task", node: "npm run" }[runtime];
  return {
    install: runtime === "bun" ? "bun install" : "npm install",
    dev: `${run} dev`,
    start: runtime === "node" ? "npm start" : `${run} start`,
    routes: `${run} routes`,
    worker: `${run} worker`,
    test: runtime === "node" ? "npm test" : `${run} test`,
    upgrade: `${run} upgrade -- /path/to/newer/hono-channels`,
  };
}

export function packageJson(options: ScaffoldOptions, versions: TemplateVersions): string {
  const scripts = scriptsFor(options);
  const devDependencies: Record<string, string> = {
    "@types/ws": versions.devDependencies["@types/ws"]!,
    "bun-types": versions.devDependencies["bun-types"]!,
    typescript: versions.devDependencies.typescript!,
  };
  if (options.runtime === "node") devDependencies.tsx = versions.devDependencies.tsx!;
  const pkg = {
    name: options.name,
    version: "0.1.0",
    private: true,
    type: "module",
    // Deno runs its tasks from deno.json; the others from here.
    scripts:
      options.runtime === "deno"
        ? { typecheck: "tsc --noEmit -p ." }
        : { ...scripts, typecheck: "tsc --noEmit -p ." },
    dependencies: versions.dependencies,
    devDependencies,
  };
  return `${JSON.stringify(pkg, null, 2)}\n`;
}

export function denoJson(options: ScaffoldOptions): string {
  const deno: Record<string, unknown> = {
    nodeModulesDir: "manual",
    imports: {
      "hono-channels": "./src/index.ts",
      "hono-channels/redis": "./src/redis.ts",
      "hono-channels/integration": "./src/integration.ts",
    },
  };
  if (options.runtime === "deno") deno.tasks = scriptsFor(options);
  return `${JSON.stringify(deno, null, 2)}\n`;
}

/** `hono-channels` resolves to src/ through `paths` (Bun, tsx and tsc read them; Deno reads deno.json). */
export function tsconfigJson(): string {
  const tsconfig = {
    compilerOptions: {
      target: "ES2022",
      lib: ["ES2023", "DOM", "DOM.Iterable"],
      module: "ESNext",
      moduleResolution: "Bundler",
      types: ["bun-types"],
      strict: true,
      noUncheckedIndexedAccess: true,
      noImplicitOverride: true,
      verbatimModuleSyntax: true,
      allowImportingTsExtensions: true,
      isolatedModules: true,
      skipLibCheck: true,
      noEmit: true,
      paths: {
        "hono-channels": ["./src/index.ts"],
        "hono-channels/redis": ["./src/redis.ts"],
        "hono-channels/integration": ["./src/integration.ts"],
      },
    },
    include: ["src", "routes", "consumers", "workers", "tasks", "test", "*.ts"],
  };
  return `${JSON.stringify(tsconfig, null, 2)}\n`;
}

export const BUNFIG = `# Bun reads this for bun install, bun run and bun test.

[test]
# The app's own tests only: routes/ and consumers/ may hold files named *.test.ts that are not tests.
root = "./test"
`;

export const GITIGNORE = `node_modules/
*.log
.env
# package-lock.json is the lock file; Bun and Deno would each write their own beside it.
bun.lock
deno.lock
`;

export function readme(options: ScaffoldOptions): string {
  const c = commandsFor(options.runtime);
  const layer =
    options.layer === "redis"
      ? "It starts on the **Redis** channel layer (`CHANNEL_LAYER=redis` in its start scripts" +
        (options.runtime === "deno"
          ? ", which decide it: edit deno.json to run another layer"
          : ", unless the environment sets another") +
        "): run a Redis\nand point `REDIS_URL` at it (default `redis://127.0.0.1:6379`); every process on that Redis shares groups."
      : "It starts on the **in-memory** channel layer: one process. For several processes, run a Redis and\n" +
        "start with `CHANNEL_LAYER=redis REDIS_URL=redis://host:6379`.";
  const app = options.minimal
    ? "- `routes/index.ts`: a page that talks to `consumers/echo.ts` (ws://host/echo)\n- `routes/health.ts`: GET /health"
    : "- `routes/`: pages and views (chat, live dashboard, /health, a demo login, /api/updates, /api/reports)\n" +
      "- `consumers/`: WebSocket consumers (echo, chat/[room], live, me)\n" +
      "- `workers/`: consumers of named channels (`reports`); `tasks/`: periodic tasks (the dashboard tick)";
  return `# ${options.name}

A Hono Channels project: HTTP views in \`routes/\`, WebSocket consumers in
\`consumers/\`, and a channel layer between them. Made with \`--runtime ${options.runtime} --layer ${options.layer}${options.minimal ? " --minimal" : ""}\`.

## Run

\`\`\`sh
${c.install}
${c.dev}       # dev server on http://localhost:8000, reloads on changes
${c.test}      # this app's tests (test/)
\`\`\`

${layer}

## Deploy

\`\`\`sh
${c.start}     # PORT (8000), HOST, NODE_ENV=production, SECRET_KEY (32+ characters) from the environment
${c.worker}    # workers alone, for a fleet apart from web processes (then RUN_WORKERS=false on the web)
${c.routes}    # print the route table
\`\`\`

In production set \`SECRET_KEY\` and \`ALLOWED_ORIGINS\`; \`/health\` answers 503 while the channel layer is
down, \`/metrics\` serves Prometheus figures (set \`METRICS_TOKEN\` to read them remotely).

## What is here

${app}
- \`src/\`: the framework, imported as \`hono-channels\` (see \`docs/architecture.md\` in the template)
- \`test/\`: this app's tests, through \`TestClient\` (no server needed)

## Taking a newer framework

\`${c.upgrade}\` replaces \`src/\` with the newer template's and lists what changed; your routes,
consumers, workers, tasks and tests are not touched. Commit first, then review the change with \`git diff\`.
`;
}

/** The minimal project's one page: a socket to the echo consumer. */
export const MINIMAL_INDEX = `/** GET /: a page that talks to the echo consumer (consumers/echo.ts). */
import type { Context } from "hono";
import { html } from "hono/html";
import { layout } from "./_layout.ts";

export function GET(c: Context) {
  return c.html(
    layout(
      "Echo",
      html\`<h1>Echo</h1>
        <form id="form"><label for="text">Message</label> <input id="text" autocomplete="off" /> <button>Send</button></form>
        <div id="log" aria-live="polite"></div>\`,
      \`const socket = new WebSocket(location.origin.replace(/^http/, "ws") + "/echo");
       socket.onopen = () => log("connected");
       socket.onmessage = (event) => log("echo: " + event.data);
       socket.onclose = (event) => log("closed (" + event.code + ")");
       document.getElementById("form").onsubmit = (event) => {
         event.preventDefault();
         const input = document.getElementById("text");
         socket.send(input.value);
         input.value = "";
       };\`,
    ),
  );
}
`;
