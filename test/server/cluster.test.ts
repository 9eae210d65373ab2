/**
 * Many processes for real: a Bun, a Deno and a Node server share one Redis (CHANNEL_LAYER=redis)
 * and serve the shipped chat and live examples. Clients on every process talk to each other
 * through the layer: every message reaches every member exactly once, each sender's messages in
 * the order it sent them, and nothing leaks into another room.
 * Needs all three runtimes and a Redis: skipped locally with one line if one is missing, failed
 * under CI=true.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { issueToken } from "../../src/security/auth.ts";
import { describeWithRedis } from "../_support/redis.ts";
import { connect, type TestSocket } from "./_client.ts";
import { type ServerProcess, startServer, TEST_SECRET } from "./_fixture.ts";
import { isAvailable, type RuntimeName } from "./_runtimes.ts";

const RUNTIMES: RuntimeName[] = ["bun", "deno", "node"];
const SUITE = "cluster: Bun, Deno and Node servers sharing one Redis";
/** Messages each chat client sends. */
const N = 20;
/** Chat clients per process. */
const PER_PROCESS = 2;

interface Proc {
  runtime: RuntimeName;
  server: ServerProcess;
}

interface Member {
  name: string;
  socket: TestSocket;
}

function clusterSuite(redisUrl: () => string): void {
  // A fresh key prefix per run: runs never see each other's groups, even on a shared Redis.
  const prefix = `cluster-${crypto.randomUUID().slice(0, 8)}`;
  let procs: Proc[] = [];
  const open: TestSocket[] = [];

  beforeAll(async () => {
    const env = {
      CHANNEL_LAYER: "redis",
      REDIS_URL: redisUrl(),
      REDIS_PREFIX: prefix,
      // The burst puts up to 6 x 20 = 120 messages in one member's queue (a sender's own frames go
      // first, so room messages wait behind them). The default capacity, 100, would drop some, as in
      // Channels; this suite checks delivery, so it leaves room for the whole burst.
      CHANNEL_CAPACITY: String(4 * PER_PROCESS * RUNTIMES.length * N),
    };
    const started = await Promise.allSettled(RUNTIMES.map((runtime) => startServer(runtime, env)));
    procs = started.flatMap((result, i) =>
      result.status === "fulfilled" ? [{ runtime: RUNTIMES[i]!, server: result.value }] : [],
    );
    const failures = started.flatMap((result) =>
      result.status === "rejected" ? [String((result.reason as Error)?.message ?? result.reason)] : [],
    );
    if (failures.length > 0) throw new Error(`not every server started:\n${failures.join("\n\n")}`);
  }, 30_000);

  afterAll(() => {
    for (const socket of open) socket.close();
    for (const { server } of procs) server.kill();
  });

  /** Opens a socket on a server process, remembered so afterAll closes it even if the test failed. */
  const join = async (proc: Proc, path: string): Promise<TestSocket> => {
    const socket = await connect(proc.server.wsUrl(path));
    open.push(socket);
    return socket;
  };

  /** Closes sockets and waits until each is closed, so every server has run its disconnect. */
  const closeAll = async (sockets: TestSocket[]) => {
    for (const socket of sockets) socket.close();
    await Promise.all(sockets.map((socket) => socket.closed));
  };

  /** Runs `check`; if it fails, prints what each server said before rethrowing. */
  const withServerOutput = async (check: () => Promise<void>) => {
    try {
      await check();
    } catch (error) {
      for (const { runtime, server } of procs) {
        console.error(
          `--- ${runtime} server output ---\n${server.output().split("\n").slice(-40).join("\n")}`,
        );
      }
      throw error;
    }
  };

  /** Takes `count` JSON messages; on a timeout says how many came and from whom. */
  const takeJson = async (member: Member, count: number, timeoutMs = 4000): Promise<unknown[]> => {
    const received: unknown[] = [];
    const deadline = Date.now() + timeoutMs;
    while (received.length < count) {
      try {
        received.push(await member.socket.nextJson(Math.max(1, deadline - Date.now())));
      } catch (error) {
        const bySender: Record<string, number> = {};
        for (const message of received) {
          const user = (message as { user?: string }).user ?? "?";
          bySender[user] = (bySender[user] ?? 0) + 1;
        }
        throw new Error(
          `${member.name} got ${received.length} of ${count} messages (${(error as Error).message}); ` +
            `per sender: ${JSON.stringify(bySender)}`,
        );
      }
    }
    return received;
  };

  it("starts all three processes on the redis layer", () => {
    expect(procs.map((proc) => proc.runtime)).toEqual(RUNTIMES);
    for (const { runtime, server } of procs) {
      expect(server.output()).toContain(`Hono Channels on ${runtime}: listening on`);
      // The layer reports each change of its Redis connection; the last word must be "up".
      const statuses = [...server.output().matchAll(/channel layer redis is (\w+)/g)].map(
        (match) => match[1],
      );
      expect({ runtime, status: statuses.at(-1) }).toEqual({ runtime, status: "up" });
      expect(server.output()).not.toContain("not reachable yet");
    }
  });

  it(`chat: ${PER_PROCESS * RUNTIMES.length} clients on 3 processes each send ${N}; all get all, exactly once, in each sender's order`, async () => {
    const members: Member[] = await Promise.all(
      procs.flatMap((proc) =>
        Array.from({ length: PER_PROCESS }, async (_, i) => {
          const name = `${proc.runtime}-${i}`;
          return { name, socket: await join(proc, `/chat/cluster?name=${name}`) };
        }),
      ),
    );
    // One bystander per process in another room: the burst must not reach it.
    const elsewhere: Member[] = await Promise.all(
      procs.map(async (proc) => ({
        name: `${proc.runtime}-elsewhere`,
        socket: await join(proc, `/chat/cluster-elsewhere?name=${proc.runtime}-elsewhere`),
      })),
    );
    const all = [...members, ...elsewhere];
    try {
      await withServerOutput(async () => {
        const textsOf = (name: string) => Array.from({ length: N }, (_, m) => `${name}:${m}`);
        // Quickly: every client sends all its messages at once, all clients at the same time.
        for (const member of members) {
          for (const text of textsOf(member.name)) member.socket.send(JSON.stringify({ text }));
        }
        const expected = Object.fromEntries(members.map((member) => [member.name, textsOf(member.name)]));
        const total = members.length * N;
        await Promise.all(
          members.map(async (member) => {
            const received = await takeJson(member, total);
            const bySender: Record<string, string[]> = {};
            for (const message of received) {
              expect(message).toEqual({
                type: "chat.message",
                user: expect.any(String),
                text: expect.any(String),
              });
              const { user, text } = message as { user: string; text: string };
              bySender[user] = [...(bySender[user] ?? []), text];
            }
            // Every sender's N messages, each once, in the order sent (senders may interleave).
            expect({ receiver: member.name, bySender }).toEqual({
              receiver: member.name,
              bySender: expected,
            });
          }),
        );
        // Exactly once: nothing more arrives, and nothing at all in the other room.
        const quiet = await Promise.all(all.map((member) => member.socket.receiveNothing(200)));
        expect(Object.fromEntries(all.map((member, i) => [member.name, quiet[i]]))).toEqual(
          Object.fromEntries(all.map((member) => [member.name, true])),
        );
      });
    } finally {
      await closeAll(all.map((member) => member.socket));
    }
  }, 15_000);

  it("live: POST /api/updates to one process reaches the dashboards on all three, exactly once each", async () => {
    const dashboards: Member[] = await Promise.all(
      procs.flatMap((proc) =>
        [0, 1].map(async (i) => ({ name: `${proc.runtime}-live-${i}`, socket: await join(proc, "/live") })),
      ),
    );
    try {
      await withServerOutput(async () => {
        // From each process in turn: the next frame every dashboard gets is that update, once.
        for (const origin of procs) {
          const topic = `from-${origin.runtime}`;
          const response = await fetch(new URL("/api/updates", origin.server.url), {
            method: "POST",
            headers: {
              "content-type": "application/json",
              authorization: `Bearer ${await issueToken({ id: "editor", name: "editor" }, TEST_SECRET)}`,
            },
            body: JSON.stringify({ topic, data: { origin: origin.runtime } }),
          });
          expect(response.status).toBe(202);
          await response.body?.cancel();
          const updates = await Promise.all(dashboards.map((dashboard) => takeJson(dashboard, 1)));
          for (const [i, [update]] of updates.entries()) {
            expect({ dashboard: dashboards[i]!.name, update }).toEqual({
              dashboard: dashboards[i]!.name,
              update: {
                type: "live.update",
                topic,
                data: { origin: origin.runtime },
                at: expect.any(String),
              },
            });
          }
        }
        const quiet = await Promise.all(dashboards.map((dashboard) => dashboard.socket.receiveNothing(200)));
        expect(quiet).toEqual(dashboards.map(() => true));
      });
    } finally {
      await closeAll(dashboards.map((dashboard) => dashboard.socket));
    }
  }, 15_000);

  it("chat: rooms stay apart, on the same process and across processes", async () => {
    const [bun, deno, node] = procs as [Proc, Proc, Proc];
    const a1 = { name: "a1", socket: await join(bun, "/chat/cluster-a?name=a1") };
    const b1 = { name: "b1", socket: await join(bun, "/chat/cluster-b?name=b1") };
    const b2 = { name: "b2", socket: await join(deno, "/chat/cluster-b?name=b2") };
    const a2 = { name: "a2", socket: await join(node, "/chat/cluster-a?name=a2") };
    const roomA = [a1, a2];
    const roomB = [b1, b2];
    try {
      await withServerOutput(async () => {
        const silent = async (members: Member[]) =>
          expect(await Promise.all(members.map((member) => member.socket.receiveNothing(200)))).toEqual(
            members.map(() => true),
          );
        a1.socket.send(JSON.stringify({ text: "for a" }));
        for (const member of roomA) {
          expect(await takeJson(member, 1)).toEqual([{ type: "chat.message", user: "a1", text: "for a" }]);
        }
        await silent([...roomA, ...roomB]);
        b2.socket.send(JSON.stringify({ text: "for b" }));
        for (const member of roomB) {
          expect(await takeJson(member, 1)).toEqual([{ type: "chat.message", user: "b2", text: "for b" }]);
        }
        await silent([...roomA, ...roomB]);
      });
    } finally {
      await closeAll([...roomA, ...roomB].map((member) => member.socket));
    }
  }, 15_000);
}

const missing = RUNTIMES.filter((runtime) => !isAvailable(runtime));
if (missing.length === 0) {
  describeWithRedis(SUITE, ({ url }) => clusterSuite(url));
} else if (process.env.CI) {
  describe(SUITE, () => {
    it(`needs bun, deno and node on PATH (CI=true: a missing runtime fails)`, () => {
      throw new Error(`${missing.join(", ")} not installed; .ci/run installs them`);
    });
  });
} else {
  console.warn(`skipping ${SUITE}: ${missing.join(", ")} not on PATH (npm install -g ${missing.join(" ")})`);
  describe.skip(SUITE, () => clusterSuite(() => ""));
}
