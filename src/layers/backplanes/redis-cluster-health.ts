/**
 * Which primaries of a cluster serve their slots: one small connection per primary of the slot
 * map, asked `CLUSTER INFO` once a second by the cluster connections' watchdog. Not PING: a
 * restarted primary answers PING before it serves its slots again, and calls sent then would get
 * CLUSTERDOWN. Not the client's pool either: ioredis drops a dead node from its pool, while the
 * slot map still names it as the owner of its slots.
 */
import { Redis } from "ioredis";
import { LayerOutcomeUnknownError } from "../../errors.ts";
import { COMMAND_TIMEOUT_MS, RECONNECT_MAX_MS } from "./redis-connections.ts";

/** The connections that check the primaries, by `host:port`. */
export class ShardHealth {
  readonly #probes = new Map<string, Redis>();

  /** The primaries among `primaries` (`host:port`) that did not answer, or do not serve. */
  async away(primaries: Set<string>): Promise<Set<string>> {
    for (const [key, probe] of this.#probes) {
      if (primaries.has(key)) continue;
      probe.disconnect();
      this.#probes.delete(key);
    }
    const away = new Set<string>();
    await Promise.all(
      [...primaries].map(async (key) => {
        try {
          const info = await withTimeout(this.#ask(key), COMMAND_TIMEOUT_MS);
          if (!String(info).includes("cluster_state:ok")) away.add(key);
        } catch {
          away.add(key);
        }
      }),
    );
    return away;
  }

  close(): void {
    for (const probe of this.#probes.values()) probe.disconnect();
    this.#probes.clear();
  }

  async #ask(key: string): Promise<unknown> {
    let probe = this.#probes.get(key);
    if (!probe) {
      const colon = key.lastIndexOf(":");
      probe = new Redis({
        host: key.slice(0, colon),
        port: Number(key.slice(colon + 1)),
        lazyConnect: true,
        // While the primary is away, fail the check at once rather than queue it.
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        commandTimeout: COMMAND_TIMEOUT_MS,
        retryStrategy: (attempt: number) => Math.min(attempt * 50, RECONNECT_MAX_MS),
      });
      probe.on("error", () => {});
      this.#probes.set(key, probe);
    }
    // A new probe connects first: the first check of a primary must not fail for that.
    if (probe.status === "wait") await probe.connect();
    return probe.cluster("INFO");
  }
}

/** `promise`, or a rejection like ioredis's own command timeout if it does not settle in `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new LayerOutcomeUnknownError(new Error("Command timed out"))), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
