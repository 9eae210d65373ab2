/**
 * Redis for tests. `REDIS_URL` points at an existing server; without it a `redis-server` is
 * started on a free port (`--save '' --appendonly no`) and stopped after. Tests that stop or
 * restart Redis always get their own server and never touch another's data.
 * Without redis-server the suites are skipped with one line saying why, except under CI=true,
 * where they fail.
 */
import { afterAll, beforeAll, describe, it } from "bun:test";
import { createServer } from "node:net";
import type { Subprocess } from "bun";

/** A redis-server process this test run started. */
export interface RedisProcess {
  url: string;
  port: number;
  /** Kills the server (SIGKILL: like a crash) and waits for it to exit. */
  kill(): Promise<void>;
  /** Starts it again on the same port, empty. */
  restart(): Promise<void>;
  /** Freezes it (SIGSTOP): connections stay open, nothing is answered. */
  pause(): void;
  /** Thaws it (SIGCONT): it answers everything it got meanwhile. */
  resume(): void;
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

/** Whether this machine can start a redis-server. */
export function hasRedisServer(): boolean {
  return Bun.which("redis-server") !== null;
}

/** Starts a private redis-server on a free port (with extra `args`) and waits until it answers. */
export async function startRedis(args: string[] = []): Promise<RedisProcess> {
  const port = await freePort();
  let child: Subprocess | null = null;
  const launch = async () => {
    child = Bun.spawn(
      [
        "redis-server",
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        ...args,
      ],
      { stdout: "pipe", stderr: "pipe" },
    );
    await waitForPing(port);
  };
  await launch();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    async kill() {
      child?.kill("SIGKILL");
      await child?.exited;
    },
    restart: launch,
    pause: () => void (child as Subprocess | null)?.kill("SIGSTOP"),
    resume: () => void (child as Subprocess | null)?.kill("SIGCONT"),
  };
}

async function waitForPing(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const socket = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } });
      socket.end();
      return;
    } catch {
      await Bun.sleep(50);
    }
  }
  throw new Error(`redis-server on port ${port} did not start within ${timeoutMs} ms`);
}

/**
 * `describe` for suites that need a Redis: `url()` gives REDIS_URL or a private server's URL.
 * `own: true` always starts a private server (for tests that kill or restart it, or that pass it
 * `args`, such as `--rename-command` to play an older Redis).
 */
export function describeWithRedis(
  name: string,
  suite: (redis: { url: () => string; server: () => RedisProcess | null }) => void,
  options: { own?: boolean; args?: string[] } = {},
): void {
  const shared = process.env.REDIS_URL;
  if (!hasRedisServer() && !(shared && !options.own)) {
    if (process.env.CI) {
      describe(name, () => {
        it("needs redis-server (CI=true: a missing Redis fails)", () => {
          throw new Error("redis-server is not installed; .ci/run installs it with apt-get");
        });
      });
    } else {
      console.warn(
        `skipping ${name}: no redis-server on PATH and no REDIS_URL (apt-get install redis-server)`,
      );
      describe.skip(name, () => suite({ url: () => "", server: () => null }));
    }
    return;
  }
  let server: RedisProcess | null = null;
  describe(name, () => {
    beforeAll(async () => {
      if (options.own || !shared) server = await startRedis(options.args);
    });
    afterAll(async () => {
      await server?.kill();
    });
    suite({ url: () => server?.url ?? (shared as string), server: () => server });
  });
}
