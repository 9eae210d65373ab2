/**
 * Starts `src/main.ts` as a real server process on a free port (PORT=0), serving the fixture app
 * in test/fixtures/server-app, and reads the URL it prints.
 */
import { join } from "node:path";
import { collectOutput } from "../_support/output.ts";
import { commandFor, type RuntimeName } from "./_runtimes.ts";

const fixtureApp = join(import.meta.dir, "..", "fixtures", "server-app");

/** The SECRET_KEY fixture servers run with, so tests can sign tokens they accept. */
export const TEST_SECRET = "test-secret-0123456789abcdef0123456789";

/** A running server process. */
export interface ServerProcess {
  url: URL;
  /** The server's process id (the runtime itself), e.g. to read its memory from /proc. */
  pid: number;
  wsUrl(path: string): string;
  /** Everything the process printed so far, stdout and stderr. */
  output(): string;
  /** Waits until the output contains `text`. */
  waitForOutput(text: string): Promise<void>;
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number>;
  /** Ends the process at once; for cleanup after a failed test. */
  kill(): void;
}

/** The server's resident memory in bytes, from /proc (Linux). */
export async function residentBytes(pid: number): Promise<number> {
  const status = await Bun.file(`/proc/${pid}/status`).text();
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN) * 1024;
}

/** How to start it: `fileLimit` runs it under `ulimit -n` (Linux, macOS), to exhaust descriptors cheaply. */
export interface StartOptions {
  fileLimit?: number;
}

/** Starts the fixture app on `runtime` and resolves once it listens; rejects if it exits first. */
export async function startServer(
  runtime: RuntimeName,
  env: Record<string, string> = {},
  options: StartOptions = {},
): Promise<ServerProcess> {
  // `exec` keeps the pid: it is the runtime's own, for residentBytes() and signals.
  const command = options.fileLimit
    ? ["bash", "-c", `ulimit -n ${options.fileLimit} && exec "$@"`, "bash", ...commandFor(runtime)]
    : commandFor(runtime);
  const child = Bun.spawn(command, {
    cwd: fixtureApp,
    env: {
      ...process.env,
      PORT: "0",
      HOST: "127.0.0.1",
      NO_COLOR: "1",
      SECRET_KEY: TEST_SECRET,
      // No dashboard tick in the middle of a test that reads /live, unless the test asks for one.
      LIVE_TICK_SECONDS: "3600",
      ...env,
    },
    stdout: "pipe",
    stderr: "pipe",
  });
  const output = collectOutput(child.stdout, child.stderr);
  const exitedEarly = child.exited.then(async (code) => {
    await Bun.sleep(50); // let the last output arrive
    throw new Error(`${runtime} server exited with ${code} before listening. Output:\n${output.text()}`);
  });
  const listening = await Promise.race([output.waitFor(/listening on (http:\/\/\S+)/), exitedEarly]);
  exitedEarly.catch(() => {}); // a later exit is the test's business, not an unhandled rejection
  const url = new URL(listening[1]!);
  return {
    url,
    pid: child.pid,
    wsUrl: (path) => new URL(path, url).href.replace(/^http/, "ws"),
    output: output.text,
    waitForOutput: async (text) => void (await output.waitFor(text)),
    stop: async (signal = "SIGTERM") => {
      if (child.exitCode === null) child.kill(signal);
      return child.exited;
    },
    kill: () => {
      if (child.exitCode === null) child.kill("SIGKILL");
    },
  };
}
