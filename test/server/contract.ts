/**
 * The server contract: what every runtime adapter must do, checked against a real server process.
 * bun.test.ts, deno.test.ts and node.test.ts each run it on their runtime.
 */
import { afterAll, beforeAll, expect, it } from "bun:test";
import { connect } from "./_client.ts";
import { type ServerProcess, startServer } from "./_fixture.ts";
import { describeOnRuntime, type RuntimeName } from "./_runtimes.ts";

export function serverContract(runtime: RuntimeName): void {
  describeOnRuntime(runtime, `server on ${runtime}`, () => {
    let server: ServerProcess;
    beforeAll(async () => {
      server = await startServer(runtime, { SHUTDOWN_TIMEOUT_MS: "3000" });
    });
    afterAll(() => server?.kill());

    it("refuses to start on a bad PORT, naming the variable", async () => {
      const error = await startServer(runtime, { PORT: "eighty" }).catch((caught: Error) => caught);
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toContain("exited with 1");
      expect((error as Error).message).toContain("SettingsError [INVALID_SETTING] PORT");
    });

    it("prints its URL and the route table on start", async () => {
      await server.waitForOutput("consumers/tracked.ts");
      expect(server.output()).toContain(`Hono Channels on ${runtime}: listening on ${server.url.origin}`);
      expect(server.output()).toMatch(/GET\s+\/health\s+routes\/health\.ts/);
      expect(server.output()).toMatch(/WS\s+\/echo\s+consumers\/echo\.ts/);
    });

    it("answers GET /health with 200 JSON, with or without a trailing slash", async () => {
      for (const path of ["/health", "/health/"]) {
        const response = await fetch(new URL(path, server.url));
        expect(response.status).toBe(200);
        expect(await response.json()).toEqual({ status: "ok" });
      }
    });

    it("answers 404 for an unknown path", async () => {
      expect((await fetch(new URL("/no/such/page", server.url))).status).toBe(404);
    });

    it("answers 426 to a plain GET on a socket-only path", async () => {
      const response = await fetch(new URL("/echo", server.url));
      expect(response.status).toBe(426);
    });

    it("echoes text and binary frames", async () => {
      const client = await connect(server.wsUrl("/echo"));
      client.send("hello");
      expect(await client.next()).toBe("hello");
      client.send(new Uint8Array([0, 1, 2, 255]));
      expect(await client.next()).toEqual(new Uint8Array([0, 1, 2, 255]));
      client.close(1000);
      expect((await client.closed).code).toBe(1000);
    });

    it("accepts a trailing slash on a socket path", async () => {
      const client = await connect(server.wsUrl("/echo/"));
      client.send("slash");
      expect(await client.next()).toBe("slash");
      client.close();
    });

    it("shows the client the close code and reason the consumer chose", async () => {
      const client = await connect(server.wsUrl("/close"));
      client.send(JSON.stringify({ code: 4321, reason: "bye from the consumer" }));
      expect(await client.closed).toEqual({ code: 4321, reason: "bye from the consumer" });
    });

    it("refuses the handshake with HTTP 403 when connect() closes", async () => {
      await expect(connect(server.wsUrl("/refuse"))).rejects.toThrow();
      const response = await fetch(new URL("/refuse", server.url), {
        headers: {
          Connection: "Upgrade",
          Upgrade: "websocket",
          "Sec-WebSocket-Version": "13",
          "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        },
      });
      expect(response.status).toBe(403);
    });

    it("passes path parameters to the consumer, catch-all included", async () => {
      const client = await connect(server.wsUrl("/params/first/and/the/rest"));
      expect(JSON.parse((await client.next()) as string)).toEqual({ a: "first", rest: "and/the/rest" });
      client.close();
    });

    it("closes only the failing socket with 1011 and logs the consumer and path", async () => {
      const bystander = await connect(server.wsUrl("/echo"));
      const crashing = await connect(server.wsUrl("/crash"));
      crashing.send("boom");
      expect((await crashing.closed).code).toBe(1011);
      bystander.send("still here");
      expect(await bystander.next()).toBe("still here");
      bystander.close();
      await server.waitForOutput("Crash.receive() failed at /crash");
    });

    it("keeps 50 concurrent clients' 100 messages each in order", async () => {
      const clients = await Promise.all(Array.from({ length: 50 }, () => connect(server.wsUrl("/echo"))));
      await Promise.all(
        clients.map(async (client, c) => {
          for (let m = 0; m < 100; m++) client.send(`${c}:${m}`);
          for (let m = 0; m < 100; m++) expect(await client.next()).toBe(`${c}:${m}`);
          client.close();
        }),
      );
    });

    it("on SIGTERM closes sockets with 1001, runs every disconnect, and exits 0", async () => {
      const clients = await Promise.all(
        [1, 2, 3].map(async (id) => {
          const client = await connect(server.wsUrl(`/tracked?id=${id}`));
          expect(await client.next()).toBe("ready");
          return client;
        }),
      );
      const exitCode = await server.stop("SIGTERM");
      for (const client of clients) expect((await client.closed).code).toBe(1001);
      for (const id of [1, 2, 3]) expect(server.output()).toContain(`disconnected ${id} 1001`);
      expect(exitCode).toBe(0);
    });
  });
}
