/**
 * `bun run dev`: runs the server and restarts it whenever a file under `routes/`, `consumers/` or
 * `src/` is added, changed or removed. Bun's own `--watch` follows only imported files, so a new
 * route file would go unseen; Deno (`--watch=...`) and Node (`tsx watch --include`) need no help.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, watch } from "node:fs";
import { join } from "node:path";
import process from "node:process";

const main = join(import.meta.dirname, "..", "main.ts");
const watched = [
  join(process.cwd(), "routes"),
  join(process.cwd(), "consumers"),
  join(import.meta.dirname, ".."),
];

let child = start();
let restartTimer: ReturnType<typeof setTimeout> | undefined;
let stopping = false;

function start(): ChildProcess {
  return spawn(process.execPath, [main], { stdio: "inherit" });
}

function exited(server: ChildProcess): Promise<void> {
  if (server.exitCode !== null || server.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => server.once("exit", () => resolve()));
}

// Restarts run one after another: two bursts of changes must not start two servers.
let restarting: Promise<void> = Promise.resolve();

function restart(reason: string): Promise<void> {
  restarting = restarting.then(async () => {
    console.log(`[dev] ${reason}: restarting`);
    child.kill("SIGTERM");
    await exited(child);
    if (!stopping) child = start();
  });
  return restarting;
}

for (const directory of watched.filter((path) => existsSync(path))) {
  watch(directory, { recursive: true }, (_event, file) => {
    // Editors write bursts of events per save; restart once per burst.
    clearTimeout(restartTimer);
    restartTimer = setTimeout(() => void restart(`${file ?? directory} changed`), 100);
  });
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, async () => {
    stopping = true;
    clearTimeout(restartTimer);
    child.kill(signal);
    await exited(child);
    process.exit(child.exitCode ?? 0);
  });
}
