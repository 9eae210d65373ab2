/**
 * An in-process backplane for the contract suites: a `FakeBus` stands in for Redis, and each
 * `FakeBackplane` on it for one process. Messages cross as msgpack bytes and arrive on a later
 * task, as they would from another process, so the suites exercise what a real backplane must do
 * without a server. `bus.down()` makes every call fail as a dead backend would.
 */
import { ChannelFull, LayerClosedError, LayerUnavailableError } from "../../src/errors.ts";
import type { Backplane, BackplaneReceiver } from "../../src/layers/backplanes/backplane.ts";
import { decodeMessage, encodeMessage } from "../../src/layers/codec.ts";
import { LAYER_DEFAULTS, type LayerOptions, type LayerStatus, type Message } from "../../src/layers/layer.ts";
import { capacityLookup, processOf } from "../../src/layers/rules.ts";

interface Entry {
  expiresAt: number;
  bytes: Uint8Array;
}

/** The shared backend: pub/sub by group, stored memberships, plain-channel lists. */
export class FakeBus {
  readonly subscribers = new Map<string, Set<FakeBackplane>>();
  readonly processes = new Map<string, FakeBackplane>();
  /** group -> stored channel -> when it joined (ms). */
  readonly members = new Map<string, Map<string, number>>();
  readonly lists = new Map<string, Entry[]>();
  readonly waiting = new Map<string, Array<() => void>>();
  #up = true;

  get up(): boolean {
    return this.#up;
  }

  /** The backend goes away: every call fails, status listeners hear "down". */
  down(): void {
    this.#up = false;
    for (const process of this.processes.values()) process.setStatus("down");
  }

  /** The backend comes back. */
  restore(): void {
    this.#up = true;
    for (const process of this.processes.values()) process.setStatus("up");
  }
}

/** One process's view of a `FakeBus`. */
export class FakeBackplane implements Backplane {
  readonly processId = crypto.randomUUID().replaceAll("-", "").slice(0, 12);
  readonly #bus: FakeBus;
  readonly #capacityOf: (channel: string) => number;
  readonly #expiryMs: number;
  readonly #groupExpiryMs: number;
  /** Wakes this process's waiting receives, so close() can end them. */
  readonly #waiters = new Set<() => void>();
  readonly #now: () => number;
  readonly #listeners = new Set<(status: LayerStatus) => void>();
  readonly #groups = new Set<string>();
  #receiver: BackplaneReceiver | null = null;
  #status: LayerStatus = "up";
  #closed = false;

  constructor(bus: FakeBus, options: LayerOptions & { now?: () => number } = {}) {
    this.#bus = bus;
    this.#capacityOf = capacityLookup(options);
    this.#expiryMs = (options.expiry ?? LAYER_DEFAULTS.expiry) * 1000;
    this.#groupExpiryMs = (options.groupExpiry ?? LAYER_DEFAULTS.groupExpiry) * 1000;
    this.#now = options.now ?? Date.now;
    bus.processes.set(this.processId, this);
  }

  get status(): LayerStatus {
    return this.#status;
  }

  onStatus(listener: (status: LayerStatus) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  setStatus(status: LayerStatus): void {
    this.#status = status;
    for (const listener of this.#listeners) listener(status);
  }

  get subscriptions(): number {
    return this.#groups.size;
  }

  start(receiver: BackplaneReceiver): void {
    this.#receiver = receiver;
  }

  async subscribe(group: string): Promise<void> {
    this.#check();
    this.#groups.add(group);
    const set = this.#bus.subscribers.get(group) ?? new Set();
    this.#bus.subscribers.set(group, set.add(this));
  }

  async unsubscribe(group: string): Promise<void> {
    this.#groups.delete(group);
    this.#bus.subscribers.get(group)?.delete(this);
  }

  async groupSend(group: string, message: Message): Promise<void> {
    this.#check();
    const bytes = encodeMessage(message);
    const members = this.#bus.members.get(group) ?? new Map<string, number>();
    for (const [channel, joinedAt] of members) {
      if (joinedAt + this.#groupExpiryMs <= this.#now()) {
        members.delete(channel);
        continue;
      }
      await this.#queue(channel, bytes).catch(() => {}); // a full stored member is skipped
    }
    for (const process of this.#bus.subscribers.get(group) ?? []) {
      setTimeout(() => process.#publishArrived(group, bytes), 0);
    }
  }

  async groupAdd(group: string, channel: string): Promise<void> {
    this.#check();
    const members = this.#bus.members.get(group) ?? new Map<string, number>();
    this.#bus.members.set(group, members.set(channel, this.#now()));
  }

  async groupDiscard(group: string, channel: string): Promise<void> {
    this.#check();
    this.#bus.members.get(group)?.delete(channel);
  }

  async send(channel: string, message: Message): Promise<void> {
    this.#check();
    await this.#queue(channel, encodeMessage(message));
  }

  async receive(channel: string, signal?: AbortSignal): Promise<Message> {
    for (;;) {
      this.#check();
      signal?.throwIfAborted();
      const list = this.#bus.lists.get(channel) ?? [];
      const now = this.#now();
      while (list.length > 0 && list[0]!.expiresAt <= now) list.shift();
      const entry = list.shift();
      if (entry) return decodeMessage(entry.bytes);
      await new Promise<void>((resolve, reject) => {
        const wake = () => {
          signal?.removeEventListener("abort", onAbort);
          this.#waiters.delete(wake);
          resolve();
        };
        const onAbort = () => {
          this.#waiters.delete(wake);
          const waiters = this.#bus.waiting.get(channel) ?? [];
          this.#bus.waiting.set(
            channel,
            waiters.filter((waiter) => waiter !== wake),
          );
          reject(signal?.reason);
        };
        signal?.addEventListener("abort", onAbort, { once: true });
        this.#waiters.add(wake);
        const waiters = this.#bus.waiting.get(channel) ?? [];
        waiters.push(wake);
        this.#bus.waiting.set(channel, waiters);
      });
    }
  }

  async flush(): Promise<void> {
    this.#check();
    this.#bus.members.clear();
    this.#bus.lists.clear();
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const group of this.#groups) this.#bus.subscribers.get(group)?.delete(this);
    this.#bus.processes.delete(this.processId);
    for (const wake of [...this.#waiters]) wake(); // each wakes to #check(): LayerClosedError
  }

  // --- internals ---------------------------------------------------------------------------------

  #check(): void {
    if (this.#closed) throw new LayerClosedError();
    if (!this.#bus.up) throw new LayerUnavailableError(new Error("the fake bus is down"));
  }

  async #queue(channel: string, bytes: Uint8Array): Promise<void> {
    const owner = processOf(channel);
    if (owner) {
      const process = this.#bus.processes.get(owner);
      if (process) setTimeout(() => process.#channelArrived(channel, bytes), 0);
      return;
    }
    const list = this.#bus.lists.get(channel) ?? [];
    const now = this.#now();
    while (list.length > 0 && list[0]!.expiresAt <= now) list.shift();
    if (list.length >= this.#capacityOf(channel)) throw new ChannelFull(channel, this.#capacityOf(channel));
    list.push({ expiresAt: now + this.#expiryMs, bytes });
    this.#bus.lists.set(channel, list);
    for (const wake of this.#bus.waiting.get(channel)?.splice(0) ?? []) wake();
  }

  #publishArrived(group: string, bytes: Uint8Array): void {
    if (this.#closed) return;
    this.#receiver?.group(group, decodeMessage(bytes));
  }

  #channelArrived(channel: string, bytes: Uint8Array): void {
    if (!this.#closed) this.#receiver?.channel(channel, decodeMessage(bytes));
  }
}
