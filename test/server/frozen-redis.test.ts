/**
 * A server on a Redis that stops answering (SIGSTOP): a handshake that needs a new subscription
 * gets an answer within the command bound, and SIGTERM still runs every `disconnect()` and exits 0
 * promptly. Each runtime gets its own private Redis, frozen and always thawed.
 */
import { expect, it } from "bun:test";
import { startRedis } from "../_support/redis.ts";
import { connect, handshake } from "./_client.ts";
import { startServer } from "./_fixture.ts";
import { describeOnRuntime, type RuntimeName } from "./_runtimes.ts";

for (const runtime of ["bun", "deno", "node"] as RuntimeName[]) {
  describeOnRuntime(runtime, `frozen Redis on ${runtime}`, () => {
    it("answers a handshake within the bound, and on SIGTERM runs every disconnect() and exits 0", async () => {
      const redis = await startRedis();
      const server = await startServer(runtime, {
        CHANNEL_LAYER: "redis",
        REDIS_URL: redis.url,
        REDIS_PREFIX: `frozen-${crypto.randomUUID()}`,
        SHUTDOWN_TIMEOUT_MS: "3000",
      });
      try {
        const clients = await Promise.all(
          [1, 2, 3].map(async (id) => {
            const client = await connect(server.wsUrl(`/member?id=${id}&group=room`));
            expect(await client.next()).toBe("ready");
            return client;
          }),
        );
        redis.pause();
        // A room nobody here is in needs a SUBSCRIBE that Redis will not answer: bounded, refused.
        let started = performance.now();
        const refused = await handshake(server.url, "/member?id=4&group=new-room");
        expect(refused.status).toBe(500);
        expect(performance.now() - started).toBeLessThan(4000);

        started = performance.now();
        const exitCode = await server.stop("SIGTERM");
        expect(exitCode).toBe(0);
        expect(performance.now() - started).toBeLessThan(3000);
        for (const client of clients) expect((await client.closed).code).toBe(1001);
        for (const id of [1, 2, 3]) expect(server.output()).toContain(`disconnected ${id} 1001`);
      } finally {
        redis.resume();
        server.kill();
        await redis.kill();
      }
    }, 30_000);
  });
}
