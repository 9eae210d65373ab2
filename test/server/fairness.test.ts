/**
 * Fairness on a real server: one client bursting thousands of frames into a crowded room must not
 * stop the process answering anyone else. Before queues stepped aside for I/O, `/health` waited
 * for the whole burst (seconds); now work is bounded per turn of the event loop. The bound asserted
 * here is loose on purpose (a behaviour, not a benchmark): answered while the burst is still running.
 */
import { expect, it } from "bun:test";
import { connect, type TestSocket } from "./_client.ts";
import { startServer } from "./_fixture.ts";
import { describeOnRuntime, type RuntimeName } from "./_runtimes.ts";

const MEMBERS = 60;
const BURST = 3000;

for (const runtime of ["bun", "deno", "node"] as RuntimeName[]) {
  describeOnRuntime(runtime, `fairness on ${runtime}`, () => {
    it("answers /health and another room during a burst into a crowded room, and delivers the whole burst", async () => {
      const server = await startServer(runtime, { LOG_LEVEL: "warn" });
      const clients: TestSocket[] = [];
      try {
        for (let i = 0; i < MEMBERS; i++) clients.push(await connect(server.wsUrl(`/chat/burst?name=m${i}`)));
        const [talker, listener] = [
          await connect(server.wsUrl("/chat/quiet?name=talker")),
          await connect(server.wsUrl("/chat/quiet?name=listener")),
        ];
        clients.push(talker, listener);

        const sender = clients[0]!;
        const burstStarted = performance.now();
        for (let n = 0; n < BURST; n++) sender.send(JSON.stringify({ text: `b${n}` }));
        await Bun.sleep(50); // let the burst reach the server

        const timed = async (work: () => Promise<void>) => {
          const started = performance.now();
          await work();
          return performance.now() - started;
        };
        // Both at once, while the burst is being handled.
        const [healthMs, otherRoomMs] = await Promise.all([
          timed(async () => {
            const health = await fetch(new URL("/health", server.url));
            expect(health.status).toBe(200);
          }),
          timed(async () => {
            talker.send(JSON.stringify({ text: "still here" }));
            expect(await listener.nextJson(10_000)).toEqual({
              type: "chat.message",
              user: "talker",
              text: "still here",
            });
          }),
        ]);

        // The last member gets every message of the burst, in order: nothing was dropped to get there.
        const last = clients[MEMBERS - 1]!;
        for (let n = 0; n < BURST; n++) {
          expect(await last.nextJson(30_000)).toEqual({ type: "chat.message", user: "m0", text: `b${n}` });
        }
        const burstMs = performance.now() - burstStarted;
        console.log(
          `fairness ${runtime}: /health ${healthMs.toFixed(0)} ms, other room ${otherRoomMs.toFixed(0)} ms, ` +
            `burst of ${BURST} x ${MEMBERS} delivered in ${burstMs.toFixed(0)} ms`,
        );
        // Answered long before the burst was through (it takes seconds here).
        expect(healthMs).toBeLessThan(Math.min(1000, burstMs / 3));
        expect(otherRoomMs).toBeLessThan(Math.min(1000, burstMs / 3));
      } finally {
        for (const client of clients) client.close();
        server.kill();
      }
    }, 90_000);

    it("shuts down within SHUTDOWN_TIMEOUT_MS plus a second in the middle of a burst", async () => {
      const server = await startServer(runtime, { LOG_LEVEL: "warn", SHUTDOWN_TIMEOUT_MS: "2000" });
      const clients: TestSocket[] = [];
      try {
        for (let i = 0; i < MEMBERS; i++) clients.push(await connect(server.wsUrl(`/chat/burst?name=m${i}`)));
        for (let n = 0; n < BURST; n++) clients[0]!.send(JSON.stringify({ text: `b${n}` }));
        await Bun.sleep(50);
        const started = performance.now();
        expect(await server.stop("SIGTERM")).toBe(0);
        expect(performance.now() - started).toBeLessThan(3000);
      } finally {
        for (const client of clients) client.close();
        server.kill();
      }
    }, 60_000);
  });
}
