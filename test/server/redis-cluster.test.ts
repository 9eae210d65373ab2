/**
 * Many processes on a Redis Cluster for real: a Bun, a Deno and a Node server share a private
 * 3-primary cluster (CHANNEL_LAYER=redis-cluster) and serve the shipped chat example, with one
 * room on each shard. Every message reaches every member of its room exactly once, in each
 * sender's order; then one shard is killed and restarted: the rooms on the other shards go on
 * meanwhile, every server reports the outage and the return, and the room on the restarted shard
 * works again for the members who were in it all along.
 * Needs all three runtimes and redis-server: skipped locally with one line if one is missing,
 * failed under CI=true.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import {
  type ClusterShard,
  describeWithRedisCluster,
  type RedisClusterProcess,
} from "../_support/redis-cluster.ts";
import { connect, type TestSocket } from "./_client.ts";
import { type ServerProcess, startServer } from "./_fixture.ts";
import { isAvailable, type RuntimeName } from "./_runtimes.ts";

const RUNTIMES: RuntimeName[] = ["bun", "deno", "node"];
const SUITE = "redis-cluster: Bun, Deno and Node servers sharing a 3-shard Redis Cluster";
/** Messages each chat client sends. */
const N = 10;

interface Proc {
  runtime: RuntimeName;
  server: ServerProcess;
}

interface Member {
  name: string;
  room: string;
  socket: TestSocket;
}

/** One room name per shard: the room's group (`chat.<room>`) hashes to that shard's slots. */
async function roomPerShard(cluster: RedisClusterProcess): Promise<Map<ClusterShard, string>> {
  const rooms = new Map<ClusterShard, string>();
  for (let i = 0; rooms.size < cluster.shards.length; i++) {
    const room = `shard-room-${i}`;
    const { shard } = await cluster.shardOf(`chat.${room}`);
    if (!rooms.has(shard)) rooms.set(shard, room);
  }
  return rooms;
}

function suite(cluster: () => RedisClusterProcess): void {
  const prefix = `rc-${crypto.randomUUID().slice(0, 8)}`;
  let procs: Proc[] = [];
  let rooms = new Map<ClusterShard, string>();
  const open: TestSocket[] = [];

  beforeAll(async () => {
    rooms = await roomPerShard(cluster());
    const env = {
      CHANNEL_LAYER: "redis-cluster",
      REDIS_CLUSTER_NODES: cluster().nodes.join(","),
      REDIS_PREFIX: prefix,
    };
    const started = await Promise.allSettled(RUNTIMES.map((runtime) => startServer(runtime, env)));
    procs = started.flatMap((result, i) =>
      result.status === "fulfilled" ? [{ runtime: RUNTIMES[i] as RuntimeName, server: result.value }] : [],
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

  /** One member per process in `room`. */
  const joinRoom = (room: string): Promise<Member[]> =>
    Promise.all(
      procs.map(async (proc) => {
        const name = `${proc.runtime}-${room}`;
        const socket = await connect(proc.server.wsUrl(`/chat/${room}?name=${name}`));
        open.push(socket);
        return { name, room, socket };
      }),
    );

  /** The next `count` chat texts a member gets, by sender. */
  const takeBySender = async (member: Member, count: number): Promise<Record<string, string[]>> => {
    const bySender: Record<string, string[]> = {};
    for (let i = 0; i < count; i++) {
      const { user, text } = (await member.socket.nextJson(4000)) as { user: string; text: string };
      bySender[user] = [...(bySender[user] ?? []), text];
    }
    return bySender;
  };

  /** Runs `check`; if it fails, prints what each server said before rethrowing. */
  const withServerOutput = async (check: () => Promise<void>) => {
    try {
      await check();
    } catch (error) {
      for (const { runtime, server } of procs) {
        console.error(
          `--- ${runtime} server output ---\n${server.output().split("\n").slice(-30).join("\n")}`,
        );
      }
      throw error;
    }
  };

  let members: Member[] = [];

  it("starts all three processes on the redis-cluster layer", () => {
    expect(procs.map((proc) => proc.runtime)).toEqual(RUNTIMES);
    for (const { runtime, server } of procs) {
      const statuses = [...server.output().matchAll(/channel layer redis-cluster is (\w+)/g)].map(
        (m) => m[1],
      );
      expect({ runtime, status: statuses.at(-1) }).toEqual({ runtime, status: "up" });
    }
  });

  it(`chat: a room on each shard, a member per process in each; each sends ${N}; all get all, once, in order`, async () => {
    members = (await Promise.all([...rooms.values()].map(joinRoom))).flat();
    await withServerOutput(async () => {
      const textsOf = (name: string) => Array.from({ length: N }, (_, m) => `${name}:${m}`);
      for (const member of members) {
        for (const text of textsOf(member.name)) member.socket.send(JSON.stringify({ text }));
      }
      await Promise.all(
        members.map(async (member) => {
          const roommates = members.filter((other) => other.room === member.room);
          const expected = Object.fromEntries(roommates.map((other) => [other.name, textsOf(other.name)]));
          expect({ member: member.name, got: await takeBySender(member, roommates.length * N) }).toEqual({
            member: member.name,
            got: expected,
          });
        }),
      );
      // Exactly once, and nothing from the other rooms.
      const quiet = await Promise.all(members.map((member) => member.socket.receiveNothing(200)));
      expect(quiet).toEqual(members.map(() => true));
    });
  }, 20_000);

  it("a shard restart: other rooms go on, every server reports it, and its room works again after", async () => {
    const victim = cluster().shards[0] as ClusterShard;
    const deadRoom = rooms.get(victim) as string;
    const liveRooms = [...rooms.entries()].filter(([shard]) => shard !== victim).map(([, room]) => room);
    await withServerOutput(async () => {
      await victim.kill();
      try {
        // Every server notices (its status line), and meanwhile the other shards' rooms work.
        for (const { server } of procs) await server.waitForOutput("channel layer redis-cluster is down");
        for (const room of liveRooms) {
          const inRoom = members.filter((member) => member.room === room);
          (inRoom[0] as Member).socket.send(JSON.stringify({ text: "during" }));
          for (const member of inRoom)
            expect(await takeBySender(member, 1)).toEqual({ [inRoom[0]!.name]: ["during"] });
        }
      } finally {
        await victim.restart();
      }
      for (const { server } of procs) {
        await until(() => /is down[\s\S]*channel layer redis-cluster is up/.test(server.output()), 20_000);
      }
      // The members who were in the room all along hear each other again, across processes.
      const inRoom = members.filter((member) => member.room === deadRoom);
      const [sender, ...others] = inRoom as [Member, ...Member[]];
      sender.socket.send(JSON.stringify({ text: "back" }));
      for (const member of inRoom) expect(await takeBySender(member, 1)).toEqual({ [sender.name]: ["back"] });
      expect(others.length).toBe(2);
    });
  }, 40_000);
}

/** Waits until `condition()` holds; throws if it did not within `ms`. */
async function until(condition: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms`);
    await Bun.sleep(50);
  }
}

const missing = RUNTIMES.filter((runtime) => !isAvailable(runtime));
if (missing.length === 0) {
  describeWithRedisCluster(SUITE, ({ cluster }) => suite(cluster));
} else if (process.env.CI) {
  describe(SUITE, () => {
    it("needs bun, deno and node on PATH (CI=true: a missing runtime fails)", () => {
      throw new Error(`${missing.join(", ")} not installed; .ci/run installs them`);
    });
  });
} else {
  console.warn(`skipping ${SUITE}: ${missing.join(", ")} not on PATH (npm install -g ${missing.join(" ")})`);
  describe.skip(SUITE, () => suite(() => ({}) as RedisClusterProcess));
}
