/**
 * What the cluster backplane runs that the single-Redis one does not: its group script (one slot,
 * so it cannot queue on members' lists as redis-scripts.ts's does), a flush that visits every
 * primary, and the parsing of seed nodes.
 */
import type { Cluster } from "ioredis";
import { LuaScript } from "./redis-scripts.ts";

/**
 * KEYS[1] group set. ARGV: 1 shard channel (same hash tag as KEYS[1]), 2 now, 3 group expiry ms,
 * 4 message (wire payload).
 *
 * Drops expired memberships, publishes the message once on the group's shard for the processes
 * that hold local members, and returns the members stored in Redis, for the caller to queue on
 * their own lists (which live on their own slots).
 */
export const clusterGroupSendScript = new LuaScript(`
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[2]) - tonumber(ARGV[3]))
redis.call('SPUBLISH', ARGV[1], ARGV[4])
return redis.call('ZRANGE', KEYS[1], 0, -1)
`);

/** How many keys one pipeline unlinks at a time. */
const UNLINK_BATCH = 500;

/**
 * Unlinks every key matching `pattern` on every primary. Keys of different slots cannot go in one
 * UNLINK on a cluster, so each is its own command, pipelined per shard. Returns the primaries
 * (`host:port`) that failed; the others are flushed all the same.
 */
export async function flushCluster(cluster: Cluster, pattern: string): Promise<string[]> {
  const failed: string[] = [];
  await Promise.all(
    cluster.nodes("master").map(async (node) => {
      try {
        let cursor = "0";
        do {
          const [next, keys] = await node.scan(cursor, "MATCH", pattern, "COUNT", UNLINK_BATCH);
          if (keys.length > 0) {
            const pipeline = node.pipeline();
            for (const key of keys) pipeline.unlink(key);
            await pipeline.exec();
          }
          cursor = next;
        } while (cursor !== "0");
      } catch {
        failed.push(`${node.options.host}:${node.options.port}`);
      }
    }),
  );
  return failed;
}

/** Seed nodes from `host:port` entries (an array, or one comma-separated string); throws on a bad one. */
export function parseClusterNodes(nodes: string | string[]): Array<{ host: string; port: number }> {
  const entries = (typeof nodes === "string" ? nodes.split(",") : nodes)
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "");
  if (entries.length === 0) throw new TypeError("a Redis cluster needs at least one seed node (host:port)");
  return entries.map((entry) => {
    const match = /^(?:\[([0-9a-fA-F:.]+)\]|([\w.-]+)):(\d{1,5})$/.exec(entry);
    const port = Number(match?.[3]);
    if (!match || port < 1 || port > 65535) {
      throw new TypeError(`"${entry}" is not a cluster node: use host:port, such as 10.0.0.5:6379`);
    }
    return { host: match[1] ?? (match[2] as string), port };
  });
}
