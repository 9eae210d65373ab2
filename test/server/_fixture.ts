/**
 * Starts `src/main.ts` as a real server process on a free port (PORT=0), serving the fixture app
 * in test/fixtures/server-app, and reads the URL it prints.
 */
import { join } from "node:path";
import { commandFor, type RuntimeName } from "./_runtimes.ts";

const fixtureApp = join(import.meta.dir, "..", "fixtures", "server-app");

/** A running server process. */
export interface ServerProcess {
  url: URL;
  wsUrl(path: string): string;
  /** Everything the process printed so far, stdout and stderr. */
  output(): string;
  /** Waits until the output contains `text`. */
  waitForOutput(text: string, timeoutMs?: number): Promise<void>;
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number>;
  /** Ends the process at once; for cleanup after a failed test. */
  kill(): void;
}

/** Starts the fixture app on `runtime` and resolves once it listens. */
export async function startServer(
  runtime: RuntimeName,
  env: Record<string, string> = {},
): Promise<ServerProcess> {
  const child = Bun.spawn(commandFor(runtime), {
    cwd: fixtureApp,
    env: { ...process.env, PORT: "0", HOST: "127.0.0.1", NO_COLOR: "1", ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  let output = "";
  const listeners = new Set<() => void>();
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    const reader = stream.getReader();
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
      output += decoder.decode(chunk.value, { stream: true });
      for (const listener of listeners) listener();
    }
  };
  void collect(child.stdout);
  void collect(child.stderr);

  const waitForOutput = (text: string, timeoutMs = 20_000) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (output.includes(text)) {
          listeners.delete(check);
          clearTimeout(timer);
          resolve();
        }
      };
      const timer = setTimeout(() => {
        listeners.delete(check);
        reject(
          new Error(`${runtime} server did not print "${text}" within ${timeoutMs} ms. Output:\n${output}`),
        );
      }, timeoutMs);
      listeners.add(check);
      void child.exited.then((code) => {
        if (!output.includes(text)) {
          listeners.delete(check);
          clearTimeout(timer);
          reject(
            new Error(`${runtime} server exited with ${code} before printing "${text}". Output:\n${output}`),
          );
        }
      });
      check();
    });

  await waitForOutput("listening on http://");
  const url = new URL(/listening on (http:\/\/\S+)/.exec(output)![1]!);
  return {
    url,
    wsUrl: (path) => new URL(path, url).href.replace(/^http/, "ws"),
    output: () => output,
    waitForOutput,
    stop: async (signal = "SIGTERM") => {
      if (child.exitCode === null) child.kill(signal);
      return child.exited;
    },
    kill: () => {
      if (child.exitCode === null) child.kill("SIGKILL");
    },
  };
}
