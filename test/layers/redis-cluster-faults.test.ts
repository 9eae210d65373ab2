/**
 * The cluster layer when shards change under it, on a private 3-primary cluster:
 * - a slot moves to another shard (resharding): the group's sharded subscription and its stored
 *   memberships follow, and group messages reach the members again;
 * - a shard is killed (SIGKILL) and restarted empty: calls that need it fail with the layer's
 *   errors while calls on the other shards go on, the status says `down` and names the shard,
 *   and once it is back the status is `up` and the group's subscription on it works again.
 * Pub/sub is at most once: a message published while a slot moves may be lost, so the tests wait
 * for delivery to resume rather than for one given message.
 */
import { afterEach, expect, it } from "bun:test";
import { ChannelsError } from "../../src/errors.ts";
import { type LayerStatus, waitUntilUp } from "../../src/layers/layer.ts";
import { RedisClusterChannelLayer } from "../../src/layers/redis-cluster.ts";
import type { Logger } from "../../src/log.ts";
import {
  type ClusterShard,
  describeWithRedisCluster,
  type RedisClusterProcess,
} from "../_support/redis-cluster.ts";

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** Waits until `condition()` holds; false if it did not within `ms`. */
async function until(condition: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = performance.now() + ms;
  while (!(await condition())) {
    if (performance.now() >= deadline) return false;
    await Bun.sleep(20);
  }
  return true;
}

/** The next message on a local channel, or null if none within `ms`. */
async function receiveWithin(layer: RedisClusterChannelLayer, channel: string, ms: number) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), ms);
  try {
    return await layer.receive(channel, { signal: controller.signal });
  } catch (error) {
    if (controller.signal.aborted) return null;
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/** Sends to `group` from `sender` until `receiver` gets one on `channel`; resolves with the wait (ms), or null. */
async function deliveryResumes(
  sender: RedisClusterChannelLayer,
  receiver: RedisClusterChannelLayer,
  group: string,
  channel: string,
  ms: number,
): Promise<number | null> {
  const start = performance.now();
  while (performance.now() - start < ms) {
    await sender.groupSend(group, { type: "probe" }).catch(() => {});
    if (await receiveWithin(receiver, channel, 200)) return performance.now() - start;
  }
  return null;
}

/** A group name whose slot is on `shard` (or, with `not`, on another shard). */
async function groupOn(cluster: RedisClusterProcess, shard: ClusterShard, not = false): Promise<string> {
  for (let i = 0; ; i++) {
    const name = `room-${i}`;
    const owner = (await cluster.shardOf(name)).shard;
    if ((owner === shard) !== not) return name;
  }
}

describeWithRedisCluster("RedisClusterChannelLayer under shard changes", ({ cluster }) => {
  const open: RedisClusterChannelLayer[] = [];
  const layerFor = async (prefix: string) => {
    const layer = new RedisClusterChannelLayer({ nodes: cluster().nodes, prefix, logger: quiet });
    open.push(layer);
    await waitUntilUp(layer);
    return layer;
  };
  afterEach(async () => {
    for (const layer of open.splice(0)) await layer.close();
  });

  it("follows a slot move: subscription and stored memberships go with the group's slot", async () => {
    const prefix = `move-${crypto.randomUUID()}`;
    const receiver = await layerFor(prefix);
    const sender = await layerFor(prefix);
    const group = "room-moving";
    const local = await receiver.newChannel();
    await receiver.groupAdd(group, local);
    await sender.groupAdd(group, "worker.jobs"); // a stored member: a key in the group's slot

    await sender.groupSend(group, { type: "before" });
    expect(await receiveWithin(receiver, local, 2000)).toEqual({ type: "before" });
    expect(await sender.receive("worker.jobs")).toEqual({ type: "before" });

    const { shard: from } = await cluster().shardOf(group);
    const to = cluster().shards.find((shard) => shard !== from) as ClusterShard;
    await cluster().moveSlotOf(group, to);
    expect((await cluster().shardOf(group)).shard).toBe(to);

    const waited = await deliveryResumes(sender, receiver, group, local, 10_000);
    expect(waited).not.toBeNull();
    console.info(
      `redis-cluster-faults: group delivery resumed ${waited?.toFixed(0)} ms after the slot moved`,
    );
    // The membership moved with its slot: the stored member still gets the group's messages.
    await sender.groupSend(group, { type: "after" });
    let job = await sender.receive("worker.jobs");
    while (job.type === "probe") job = await sender.receive("worker.jobs");
    expect(job).toEqual({ type: "after" });
    expect(receiver.size.subscriptions).toBe(1);
  }, 20_000);

  it("fails only the calls that need a dead shard, reports it, and resubscribes when it is back", async () => {
    const prefix = `dead-${crypto.randomUUID()}`;
    const receiver = await layerFor(prefix);
    const sender = await layerFor(prefix);
    const victim = cluster().shards[0] as ClusterShard;
    const deadGroup = await groupOn(cluster(), victim);
    const liveGroup = await groupOn(cluster(), victim, true);
    const deadChannel = await groupOn(cluster(), victim); // plain channel names hash like group names
    const liveChannel = await groupOn(cluster(), victim, true);
    const onDead = await receiver.newChannel();
    const onLive = await receiver.newChannel();
    await receiver.groupAdd(deadGroup, onDead);
    await receiver.groupAdd(liveGroup, onLive);
    const seen: LayerStatus[] = [];
    receiver.onStatus((status) => seen.push(status));

    await victim.kill();
    try {
      // What needs the dead shard fails with the layer's error, and soon: nothing hangs.
      for (const call of [
        () => sender.groupSend(deadGroup, { type: "lost" }),
        () => sender.send(deadChannel, { type: "lost" }),
        () => sender.groupAdd(deadGroup, "worker.jobs"),
      ]) {
        const started = performance.now();
        const error = await call().then(
          () => null,
          (caught: unknown) => caught,
        );
        expect(error).toBeInstanceOf(ChannelsError);
        expect(["LAYER_UNAVAILABLE", "OUTCOME_UNKNOWN"]).toContain((error as ChannelsError).code);
        expect(performance.now() - started).toBeLessThan(5000);
      }
      // The other shards go on.
      await sender.groupSend(liveGroup, { type: "alive" });
      expect(await receiveWithin(receiver, onLive, 2000)).toEqual({ type: "alive" });
      await sender.send(liveChannel, { type: "job" });
      expect(await receiver.receive(liveChannel)).toEqual({ type: "job" });
      // The status says so, and names the shard.
      expect(await until(() => receiver.status === "down", 5000)).toBe(true);
      expect(receiver.shardsAway).toEqual([`127.0.0.1:${victim.port}`]);
    } finally {
      await victim.restart();
    }
    expect(await until(() => receiver.status === "up" && sender.status === "up", 15_000)).toBe(true);
    expect(seen).toEqual(["down", "up"]);
    // The group on the restarted shard reaches this process's member again.
    const waited = await deliveryResumes(sender, receiver, deadGroup, onDead, 15_000);
    expect(waited).not.toBeNull();
    console.info(
      `redis-cluster-faults: delivery on the restarted shard resumed ${waited?.toFixed(0)} ms after "up"`,
    );
    expect(receiver.size.subscriptions).toBe(2);
    // The restarted shard came back empty: its scripts are loaded again on first use.
    await sender.send(deadChannel, { type: "again" });
    expect(await receiver.receive(deadChannel)).toEqual({ type: "again" });
  }, 40_000);
});
