/**
 * What an operator sees with LOG_FORMAT=json: a line per socket opened and closed, per refused
 * upgrade, per HTTP request; found by their fields, not their wording.
 */
import { afterAll, beforeAll, expect, it } from "bun:test";
import { connect, handshake } from "./_client.ts";
import { type ServerProcess, startServer } from "./_fixture.ts";
import { describeOnRuntime, type RuntimeName } from "./_runtimes.ts";

type Line = Record<string, unknown>;

/** The output lines that are JSON objects (the startup banner and route table are not). */
function jsonLines(server: ServerProcess): Line[] {
  return server
    .output()
    .split("\n")
    .flatMap((text) => {
      try {
        const value: unknown = JSON.parse(text);
        return value !== null && typeof value === "object" ? [value as Line] : [];
      } catch {
        return [];
      }
    });
}

/** Waits (up to 5 s) for a line matching `fields`; output arrives after the client saw the answer. */
async function lineWith(server: ServerProcess, fields: Line): Promise<Line> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const found = jsonLines(server).find((line) =>
      Object.entries(fields).every(([key, value]) => line[key] === value),
    );
    if (found) return found;
    if (Date.now() > deadline) {
      throw new Error(`no line with ${JSON.stringify(fields)} in:\n${server.output().slice(-3000)}`);
    }
    await Bun.sleep(20);
  }
}

for (const runtime of ["bun", "deno", "node"] as const satisfies RuntimeName[]) {
  describeOnRuntime(runtime, `logs on ${runtime}`, () => {
    let server: ServerProcess;
    beforeAll(async () => {
      server = await startServer(runtime, { LOG_FORMAT: "json", NODE_ENV: "production" });
    });
    afterAll(() => server?.kill());

    it("logs a socket's open and its close, with the code and a duration", async () => {
      const client = await connect(server.wsUrl("/echo?note=not-logged"));
      // The open line: the consumer's, without a close code or a refusal reason.
      const open = await lineWith(server, {
        path: "/echo",
        level: "info",
        code: undefined,
        reason: undefined,
      });
      expect(typeof open.consumer).toBe("string");
      expect(typeof open.time).toBe("string");
      client.close(1000);
      await client.closed;
      const closed = await lineWith(server, { path: "/echo", code: 1000, consumer: open.consumer });
      expect(closed.level).toBe("info");
      expect(closed.durationMs).toBeGreaterThanOrEqual(0);
      expect(server.output()).not.toContain("not-logged");
    });

    it("logs a refused upgrade from a foreign origin, with reason origin", async () => {
      const answer = await handshake(server.url, "/tracked?id=foreign", { Origin: "https://evil.example" });
      expect(answer.status).toBe(403);
      const refused = await lineWith(server, { path: "/tracked", reason: "origin" });
      expect(refused).toMatchObject({ level: "info", status: 403 });
    });

    it("logs an upgrade refused by connect() and one to a path without a consumer", async () => {
      expect((await handshake(server.url, "/refuse")).status).toBe(403);
      expect(await lineWith(server, { path: "/refuse", reason: "refused" })).toMatchObject({ status: 403 });
      expect((await handshake(server.url, "/no/such/socket")).status).toBe(404);
      expect(await lineWith(server, { path: "/no/such/socket" })).toMatchObject({ status: 404 });
    });

    it("logs an access line per HTTP request: method, path, status, duration", async () => {
      const response = await fetch(new URL("/health?secret=not-logged-either", server.url));
      expect(response.status).toBe(200);
      const access = await lineWith(server, { method: "GET", path: "/health" });
      expect(access).toMatchObject({ level: "info", status: 200 });
      expect(access.durationMs).toBeGreaterThanOrEqual(0);
      expect(server.output()).not.toContain("not-logged-either");
    });
  });
}
