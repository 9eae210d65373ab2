/**
 * The cluster backplane's connections: a cluster client for commands, one with sharded
 * subscribers (one subscriber connection per primary that owns a subscribed channel's slot), one
 * reading this process's inbox, and a pool for workers' blocking reads. Each client follows the
 * cluster's slot map on its own: ioredis refreshes it on MOVED, on a lost node and (for the
 * subscriber) every 2 seconds, and moves each sharded subscription to the slot's new owner.
 *
 * Unlike one Redis, a cluster is rarely all up or all down: a dead shard fails only the calls on
 * its slots (after ioredis's bounded redirection retries, about a second), the others go on. The
 * status says whether every primary serves: a once-a-second CLUSTER INFO to each primary of the
 * slot map reports `down` while one is dead, frozen or not serving, and `up` again when all are.
 */
import { Cluster, type ClusterNode, type ClusterOptions } from "ioredis";
import { LayerClosedError, LayerUnavailableError } from "../../errors.ts";
import type { Logger } from "../../log.ts";
import { type LayerStatus, type StatusReporting, waitUntilUp } from "../layer.ts";
import { ShardHealth, withTimeout } from "./redis-cluster-health.ts";
import {
  COMMAND_TIMEOUT_MS,
  classifyCallError,
  RECONNECT_MAX_MS,
  WATCHDOG_INTERVAL_MS,
} from "./redis-connections.ts";

// ioredis's words for a call it gave up on before any shard carried it out: the cluster was not
// ready, or every retry found the slot's shard unreachable or the cluster down.
const NOT_SENT =
  /^(Cluster isn't ready|Failed to refresh slots cache|Too many Cluster redirections\. Last error: (\w*Error: )?(Stream isn't writeable|Connection is closed|CLUSTERDOWN|TRYAGAIN))/;

/** Options of the cluster connections. */
export interface RedisClusterConnectionOptions {
  /** Seed nodes: any primaries or replicas of the cluster; the rest is discovered. */
  nodes: ClusterNode[];
  /** How long calls made before the first connection wait for it. */
  connectTimeoutMs: number;
  logger?: Logger;
  /** A sharded pub/sub message arrived on `channel`. */
  onMessage(channel: string, payload: string): void;
}

/** The cluster clients of one backplane, and whether every shard answers. */
export class RedisClusterConnections implements StatusReporting {
  readonly command: Cluster;
  readonly subscriber: Cluster;
  readonly inboxReader: Cluster;
  readonly #nodes: ClusterNode[];
  readonly #connectTimeoutMs: number;
  readonly #idleBlocking: Cluster[] = [];
  readonly #blocking = new Set<Cluster>();
  /** The shard channels held, so subscribe stays idempotent and close() is clean. */
  readonly #subscribed = new Set<string>();
  /** Shard channels let go while the cluster was away: ioredis may still hold them. */
  readonly #leftBehind = new Set<string>();
  readonly #listeners = new Set<(status: LayerStatus) => void>();
  readonly #health = new ShardHealth();
  /** Primaries (`host:port`) that did not answer the last check, or did not serve their slots. */
  #away = new Set<string>();
  #status: LayerStatus = "connecting";
  #watchdog: ReturnType<typeof setInterval>;
  #pinging = false;
  #again = false;
  #closed = false;
  #markClosed = () => {};
  readonly closing = new Promise<void>((resolve) => {
    this.#markClosed = resolve;
  });

  constructor(options: RedisClusterConnectionOptions) {
    this.#nodes = options.nodes;
    this.#connectTimeoutMs = options.connectTimeoutMs;
    const shared: ClusterOptions = {
      // Fail calls at once while the cluster is away instead of queueing them without bound.
      enableOfflineQueue: false,
      clusterRetryStrategy: (attempt: number) => Math.min(attempt * 50, RECONNECT_MAX_MS),
      redisOptions: { maxRetriesPerRequest: 0, commandTimeout: COMMAND_TIMEOUT_MS },
    };
    this.command = new Cluster(options.nodes, shared);
    // A process that only receives sees no MOVED of its own: refresh the slot map now and then so
    // its sharded subscriptions follow a resharding anyway.
    this.subscriber = new Cluster(options.nodes, {
      ...shared,
      shardedSubscribers: true,
      slotsRefreshInterval: 2000,
    });
    // Its blocking reads wait up to a second by design: no command time bound, and so no ready
    // check, which would then wait for a frozen shard forever (see blocking()).
    this.inboxReader = new Cluster(options.nodes, {
      ...shared,
      enableReadyCheck: false,
      redisOptions: { maxRetriesPerRequest: 0 },
    });
    for (const client of [this.command, this.subscriber, this.inboxReader]) {
      client.on("error", (error: Error) => options.logger?.debug(`redis cluster: ${error.message}`));
      client.on("node error", (error: Error) =>
        options.logger?.debug(`redis cluster node: ${error.message}`),
      );
    }
    for (const client of [this.command, this.subscriber]) {
      client.on("ready", () => void this.#checkAnswering());
      client.on("close", () => this.#updateStatus());
    }
    this.subscriber.on("smessage", options.onMessage);
    this.#watchdog = setInterval(() => void this.#checkAnswering(), WATCHDOG_INTERVAL_MS);
    // A script that forgets close() must not be kept alive by the watchdog alone.
    (this.#watchdog as { unref?: () => void }).unref?.();
  }

  /** `connecting` until the cluster first answers, then `up` (every primary answers) or `down`. */
  get status(): LayerStatus {
    return this.#status;
  }

  onStatus(listener: (status: LayerStatus) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** How many shard channels are held. */
  get subscriptions(): number {
    return this.#subscribed.size;
  }

  /** The primaries (`host:port`) that did not answer the last check. */
  get away(): string[] {
    return [...this.#away];
  }

  /**
   * Runs a call. One no shard carried out is `LayerUnavailableError`; one written but not answered
   * in time (or whose connection dropped before the answer) is `LayerOutcomeUnknownError`.
   */
  async call<T>(run: () => Promise<T>): Promise<T> {
    if (this.#closed) throw new LayerClosedError();
    if (this.#status === "connecting") {
      await this.#firstConnection();
      if (this.#closed) throw new LayerClosedError();
    }
    try {
      return await run();
    } catch (error) {
      throw this.#classify(error);
    }
  }

  /** Holds a shard channel from now on, across reconnects, failovers and slot moves. */
  async subscribe(channel: string): Promise<void> {
    if (this.#subscribed.has(channel)) return;
    this.#leftBehind.delete(channel); // wanted again: the watchdog must not let it go now
    try {
      // The sharded subscriber of a dead shard queues the command until it reconnects: bound it.
      await this.call(() => withTimeout(this.subscriber.ssubscribe(channel), COMMAND_TIMEOUT_MS));
    } catch (error) {
      // ioredis noted the channel before sending: take it back, or it would be re-subscribed later.
      this.subscriber.sunsubscribe(channel).catch(() => {});
      throw error;
    }
    this.#subscribed.add(channel);
  }

  /**
   * Lets a shard channel go. Best effort, never rejects: if ioredis refused the command (the
   * cluster was away), it still holds the channel and would subscribe it again on reconnect, so
   * the watchdog tries again once the cluster is back.
   */
  async unsubscribe(channel: string): Promise<void> {
    if (!this.#subscribed.delete(channel)) return;
    await this.#letGo(channel);
  }

  async #letGo(channel: string): Promise<void> {
    try {
      await withTimeout(this.subscriber.sunsubscribe(channel), COMMAND_TIMEOUT_MS);
      this.#leftBehind.delete(channel);
    } catch {
      this.#leftBehind.add(channel);
    }
  }

  /** A cluster client for one blocking read; give it back with `release`. */
  blocking(): Cluster {
    const idle = this.#idleBlocking.pop();
    if (idle) return idle;
    // A worker's receive() may wait out an outage: its reads queue until the cluster is back, and
    // one whose shard is away is tried again every half second (not ioredis's 16 tries) until the
    // shard returns or the connections close.
    const connection = new Cluster(this.#nodes, {
      clusterRetryStrategy: (attempt: number) => Math.min(attempt * 50, RECONNECT_MAX_MS),
      maxRedirections: Number.MAX_SAFE_INTEGER,
      // Its ready check asks a random node with no time bound: a frozen shard would hold it
      // forever. Without it, a read on a shard that is not serving yet is simply tried again.
      enableReadyCheck: false,
      retryDelayOnFailover: RECONNECT_MAX_MS,
      retryDelayOnClusterDown: RECONNECT_MAX_MS,
      redisOptions: { maxRetriesPerRequest: null },
    });
    connection.on("error", () => {});
    this.#blocking.add(connection);
    return connection;
  }

  /** Returns a blocking client to the pool. */
  release(connection: Cluster): void {
    if (!this.#closed) this.#idleBlocking.push(connection);
  }

  /** Ends every connection; blocked reads end with them. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#markClosed();
    clearInterval(this.#watchdog);
    this.#health.close();
    for (const client of [this.command, this.subscriber, this.inboxReader, ...this.#blocking]) {
      client.disconnect();
    }
  }

  // --- internals ---------------------------------------------------------------------------------

  async #firstConnection(): Promise<void> {
    try {
      await waitUntilUp(this, this.#connectTimeoutMs);
    } catch {
      const seeds = this.#nodes.map((node) =>
        typeof node === "object" ? `${node.host}:${node.port}` : node,
      );
      throw new LayerUnavailableError(
        new Error(
          `could not reach the Redis cluster at ${seeds.join(",")} within ${this.#connectTimeoutMs} ms`,
        ),
      );
    }
  }

  #classify(error: unknown): Error {
    if (!this.#closed && NOT_SENT.test((error as Error)?.message ?? ""))
      return new LayerUnavailableError(error);
    return classifyCallError(error, this.#closed);
  }

  /** Checks every primary once a second, one round at a time: a dead or frozen shard is `down` within seconds. */
  async #checkAnswering(): Promise<void> {
    if (this.#closed || this.command.status !== "ready") return;
    // A client that became ready during a round must be seen by a round of its own.
    if (this.#pinging) {
      this.#again = true;
      return;
    }
    this.#pinging = true;
    try {
      const primaries = new Set(
        this.command.slots.map((owners) => owners?.[0]).filter((key) => key !== undefined),
      );
      const away = await this.#health.away(primaries);
      if (this.#closed) return;
      // A primary is away: ask for the slot map each round, so that a failover (a replica now owns
      // its slots) is seen even if no call touched those slots. A primary is back: have the
      // subscriber rebuild its connection there now, not at the next step of ioredis's backoff.
      if (away.size > 0) {
        this.command.refreshSlotsCache();
        this.subscriber.refreshSlotsCache();
      } else if (this.#away.size > 0) {
        this.subscriber.refreshSlotsCache();
      }
      this.#away = away;
      if (this.subscriber.status === "ready") {
        for (const channel of [...this.#leftBehind]) {
          if (this.#leftBehind.has(channel)) void this.#letGo(channel);
        }
      }
    } finally {
      this.#pinging = false;
    }
    this.#updateStatus();
    if (this.#again) {
      this.#again = false;
      void this.#checkAnswering();
    }
  }

  #updateStatus(): void {
    const up = this.command.status === "ready" && this.subscriber.status === "ready" && this.#away.size === 0;
    // Until the first "up", a cluster that is not ready yet is still "connecting", not "down".
    const status = up ? "up" : this.#status === "connecting" ? "connecting" : "down";
    if (this.#closed || status === this.#status) return;
    this.#status = status;
    for (const listener of this.#listeners) listener(status);
  }
}
