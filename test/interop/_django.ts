/**
 * Starts the Django fixture (test/fixtures/django) under Daphne with Debian's Python, on a free
 * port, and says whether this machine can: Django, Channels, channels_redis and Daphne from
 * Debian's packages (`apt-get install python3-django python3-django-channels
 * python3-channels-redis python3-daphne`). `/usr/bin/python3`, not the first python3 on PATH,
 * which may not see Debian's packages.
 */
import { describe, it } from "bun:test";
import { join } from "node:path";
import { collectOutput } from "../_support/output.ts";
import { freePort } from "../_support/redis.ts";

const PYTHON = "/usr/bin/python3";
const fixture = join(import.meta.dir, "..", "fixtures", "django");

/** A running Daphne serving the fixture. */
export interface DjangoProcess {
  url: URL;
  wsUrl(path: string): string;
  output(): string;
  /** `fetch` against the fixture, failing on a non-2xx answer with the server's output. */
  request(path: string, init?: RequestInit): Promise<unknown>;
  kill(): void;
}

/** Whether Debian's Django Channels stack is installed. */
export function hasDjangoChannels(): boolean {
  const check = Bun.spawnSync([PYTHON, "-c", "import django, channels, channels_redis, daphne"]);
  return check.exitCode === 0;
}

/** `describe` that runs with Django Channels installed, skips without it, and fails under CI=true. */
export function describeWithDjango(name: string, suite: () => void): void {
  if (hasDjangoChannels()) {
    describe(name, suite);
  } else if (process.env.CI) {
    describe(name, () => {
      it("needs Django Channels (CI=true: a missing dependency fails)", () => {
        throw new Error(
          "install python3-django python3-django-channels python3-channels-redis python3-daphne",
        );
      });
    });
  } else {
    console.warn(`skipping ${name}: Debian's python3-django-channels stack is not installed`);
    describe.skip(name, suite);
  }
}

/** Starts Daphne with `env` (REDIS_URL, REDIS_PREFIX, CHANNEL_ENCRYPTION_KEYS) and resolves once it listens. */
export async function startDjango(env: Record<string, string>): Promise<DjangoProcess> {
  const port = await freePort();
  const child = Bun.spawn(
    [PYTHON, "-m", "daphne", "-b", "127.0.0.1", "-p", String(port), "djangoapp.asgi:application"],
    { cwd: fixture, env: { ...process.env, ...env }, stdout: "pipe", stderr: "pipe" },
  );
  const output = collectOutput(child.stdout, child.stderr);
  const exitedEarly = child.exited.then((code) => {
    throw new Error(`daphne exited with ${code} before listening. Output:\n${output.text()}`);
  });
  await Promise.race([output.waitFor(/Listening on TCP address/), exitedEarly]);
  exitedEarly.catch(() => {});
  const url = new URL(`http://127.0.0.1:${port}/`);
  return {
    url,
    wsUrl: (path) => new URL(path, url).href.replace(/^http/, "ws"),
    output: output.text,
    request: async (path, init) => {
      const response = await fetch(new URL(path, url), init);
      if (!response.ok) throw new Error(`${path}: ${response.status}\n${output.text().slice(-2000)}`);
      return response.json();
    },
    kill: () => {
      if (child.exitCode === null) child.kill("SIGKILL");
    },
  };
}
