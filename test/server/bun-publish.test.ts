/**
 * Relays on Bun go out through the server's native publish, which our slow-client policy never
 * sees. A member that stops reading while a room keeps relaying to it must be closed once Bun's own
 * backlog limit is reached, not kept open and silently skipped (what Bun does by default).
 */
import { expect, it } from "bun:test";
import { connect, rawSocket } from "./_client.ts";
import { startServer } from "./_fixture.ts";
import { describeOnRuntime } from "./_runtimes.ts";

describeOnRuntime("bun", "native publish on bun", () => {
  it("closes a member that stops reading while relays pile up past Bun's limit", async () => {
    const server = await startServer("bun", { LOG_LEVEL: "warn", MAX_BUFFERED_BYTES: "65536" });
    try {
      const slow = await rawSocket(server.url, "/chat/pileup?name=slow");
      slow.pause();
      const sender = await connect(server.wsUrl("/chat/pileup?name=sender"));
      // About 40 MB of relays toward the slow member: past Bun's 16 MiB limit (the larger of
      // 16 MiB and twice MAX_BUFFERED_BYTES) once the kernel's buffers (10 MB here) are full.
      // 2,000 characters each, in batches of 500 the sender reads back, under MAX_PENDING_BYTES.
      const text = "x".repeat(2000);
      let echoed = 0;
      sender.socket.addEventListener("message", () => echoed++);
      for (let batch = 1; batch <= 40; batch++) {
        for (let i = 0; i < 500; i++) sender.send(JSON.stringify({ text }));
        while (echoed < batch * 500) await Bun.sleep(5);
      }
      // A paused socket sees no close: read what was buffered, then the end must come. Without
      // closeOnBackpressureLimit the socket stayed open, about 20 MB of the room's messages short.
      slow.resume();
      const ended = await Promise.race([slow.ended.then(() => true), Bun.sleep(10_000).then(() => false)]);
      expect(ended).toBe(true);
      // The slow member was closed, not the sender, who got every message of the room.
      expect(echoed).toBe(20_000);
      sender.close();
      expect((await sender.closed).code).toBe(1005);
    } finally {
      server.kill();
    }
  }, 60_000);
});
