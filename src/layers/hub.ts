/**
 * The hub: local delivery, the same in every process. It holds this process's channels (a
 * connected consumer's sink, or a buffer for `receive()`), its group memberships, capacity and
 * expiry (checked lazily on an injectable clock, swept at most once a second: no timers). It
 * validates nothing and knows no backplane: the layer in front of it does both. A message handed to
 * it is the layer's own and serves every recipient; each copies it when its turn comes.
 */
import { ChannelListenedError, LayerClosedError } from "../errors.ts";
import { type Logger, throttledWarning } from "../log.ts";
import { copyMessage } from "./codec.ts";
import { type ChannelSink, type FanOut, LAYER_DEFAULTS, type LayerOptions, type Message } from "./layer.ts";
import { capacityLookup } from "./rules.ts";

/** Options of a hub: the layer's options, a clock and where skip warnings go. */
export interface HubOptions extends LayerOptions {
  /** Milliseconds since some epoch; tests pass a fake clock to check expiry without sleeping. */
  now?: () => number;
  /** Receives a warning (at most once a second) when group members are skipped because they were full. */
  logger?: Logger;
  /** A group lost its last member without a `leave` (expiry, `flush`): the layer lets its subscription go. */
  onGroupEmptied?: (group: string) => void;
}

type Waiter = { resolve(message: Message): void; reject(error: unknown): void };

/** A channel nobody listens to: its undelivered messages, or the receivers waiting for one. */
interface ChannelState {
  buffer: Array<{ expiresAt: number; message: Message }>;
  waiters: Waiter[];
}

/** How often (ms, on the hub's clock) a call also sweeps for expired entries. */
const SWEEP_INTERVAL_MS = 1000;

/** Channels, sinks, buffers and local groups of one process. */
export class Hub {
  readonly #channels = new Map<string, ChannelState>();
  /** Channels of connected consumers: a sink each and nothing else, kept small for idle connections. */
  readonly #sinks = new Map<string, ChannelSink>();
  /** group -> channel -> when the membership expires (ms on the hub's clock). */
  readonly #groups = new Map<string, Map<string, number>>();
  readonly #capacityOf: (channel: string) => number;
  readonly #expiryMs: number;
  readonly #groupExpiryMs: number;
  readonly #warnSkipped: ReturnType<typeof throttledWarning>;
  readonly #onGroupEmptied: (group: string) => void;
  #lastSweep = 0;
  readonly now: () => number; // the hub's clock
  /** Group messages not delivered because the member channel was full. */
  skippedFull = 0;

  constructor(options: HubOptions = {}) {
    this.#capacityOf = capacityLookup(options);
    this.#expiryMs = (options.expiry ?? LAYER_DEFAULTS.expiry) * 1000;
    this.#groupExpiryMs = (options.groupExpiry ?? LAYER_DEFAULTS.groupExpiry) * 1000;
    this.now = options.now ?? Date.now;
    this.#warnSkipped = throttledWarning(options.logger, this.now);
    this.#onGroupEmptied = options.onGroupEmptied ?? (() => {});
  }

  /** The capacity of `channel` (the default or its `channelCapacity` pattern). */
  capacityOf(channel: string): number {
    return this.#capacityOf(channel);
  }

  /** Hands `message` to the channel's consumer, a waiting receiver or its buffer; false if the channel is full. */
  deliver(channel: string, message: Message): boolean {
    const now = this.now();
    this.#maybeSweep(now);
    return this.#deliver(channel, message, now);
  }

  /** The next message of a channel nobody listens to; waits for one if its buffer is empty. */
  receive(channel: string, signal?: AbortSignal): Promise<Message> {
    const listened = "belongs to a connected consumer; receive() would never see its messages.";
    if (this.#sinks.has(channel)) throw new ChannelListenedError(channel, listened);
    const state = this.#state(channel);
    this.#dropExpired(channel, state, this.now());
    const next = state.buffer.shift();
    if (next) {
      this.#forgetIfIdle(channel, state);
      return Promise.resolve(copyMessage(next.message));
    }
    signal?.throwIfAborted();
    return new Promise<Message>((resolve, reject) => {
      const onAbort = () => {
        state.waiters = state.waiters.filter((other) => other !== waiter);
        this.#forgetIfIdle(channel, state);
        reject(signal?.reason);
      };
      // Settling removes the abort listener: a worker reusing one signal must not pile them up.
      const waiter: Waiter = {
        resolve: (message) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(message);
        },
        reject: (error) => {
          signal?.removeEventListener("abort", onAbort);
          reject(error);
        },
      };
      state.waiters.push(waiter);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** Pushes a channel's messages into `sink`, starting with what it buffered. */
  listen(channel: string, sink: ChannelSink): void {
    if (this.#sinks.has(channel)) throw new ChannelListenedError(channel, "already has a listener.");
    const state = this.#channels.get(channel);
    this.#channels.delete(channel);
    this.#sinks.set(channel, sink);
    if (!state) return;
    // Everything goes to the sink from now on: a receive() still waiting would wait forever.
    for (const waiter of state.waiters) {
      waiter.reject(new ChannelListenedError(channel, "got a listener while receive() was waiting."));
    }
    this.#dropExpired(channel, state, this.now());
    for (const { message } of state.buffer) sink.push(message);
  }

  /** The consumer is gone: its channel dies with whatever was still addressed to it. */
  unlisten(channel: string, sink: ChannelSink): void {
    if (this.#sinks.get(channel) === sink) this.#sinks.delete(channel);
  }

  /** Adds (or renews) a membership. */
  join(group: string, channel: string): void {
    const now = this.now();
    this.#maybeSweep(now);
    const members = this.#groups.get(group) ?? new Map<string, number>();
    this.#groups.set(group, members);
    members.set(channel, now + this.#groupExpiryMs);
  }

  /** Ends a membership. */
  leave(group: string, channel: string): void {
    const members = this.#groups.get(group);
    if (!members?.delete(channel)) return;
    this.#sinks.get(channel)?.left?.(group);
    if (members.size === 0) this.#groups.delete(group);
  }

  /** Hands `message` to each member of `group`; a full member misses it, the others do not. */
  groupSend(group: string, message: Message): void {
    const now = this.now();
    this.#maybeSweep(now);
    const members = this.#groups.get(group);
    if (!members) return;
    // Members the runtime's own fan-out reaches (Bun's publish, for relayed types) are left to it.
    let fanOut: FanOut | null = null;
    let fannedOut = 0;
    for (const [channel, expiresAt] of members) {
      const sink = this.#sinks.get(channel);
      const native = sink?.fanOutFor?.(group, message.type);
      if (membershipExpired(expiresAt, now, sink)) {
        members.delete(channel);
      } else if (native && (fanOut ?? native) === native) {
        fanOut = native;
        fannedOut++;
      } else if (!(sink ? this.#push(channel, sink, message) : this.#deliver(channel, message, now))) {
        this.skippedFull++;
        // A burst into a full room must not flood the log: one line a second, with the count.
        this.#warnSkipped(
          (times) =>
            `groupSend(${group}): ${times} message(s) skipped for full member(s) such as ${channel}; ` +
            "raise CHANNEL_CAPACITY if members fall this far behind",
          { group, channel },
        );
      }
    }
    fanOut?.publish(group, message, fannedOut);
    if (members.size === 0) this.#emptied(group);
  }

  /** Whether `group` has any local member: O(1). */
  hasMembers(group: string): boolean {
    return (this.#groups.get(group)?.size ?? 0) > 0;
  }

  /** The channels currently in `group`. */
  groupChannels(group: string): string[] {
    const now = this.now();
    return [...(this.#groups.get(group) ?? [])]
      .filter(([channel, expiresAt]) => !membershipExpired(expiresAt, now, this.#sinks.get(channel)))
      .map(([channel]) => channel);
  }

  /** Drops every buffered message and membership; listeners and waiting receivers stay. */
  flush(): void {
    for (const [channel, state] of this.#channels) {
      state.buffer = [];
      this.#forgetIfIdle(channel, state);
    }
    for (const group of [...this.#groups.keys()]) this.#emptied(group);
  }

  /** Rejects waiting receivers and forgets everything. */
  close(): void {
    for (const state of this.#channels.values()) {
      for (const waiter of state.waiters) waiter.reject(new LayerClosedError());
    }
    this.#channels.clear();
    this.#sinks.clear();
    this.#groups.clear();
  }

  /** Messages waiting in `channel`'s buffer for a `receive()`: a worker's backlog. */
  queued(channel: string): number {
    return this.#channels.get(channel)?.buffer.length ?? 0;
  }

  /** How much the hub holds: for leak checks. */
  get size(): { channels: number; groups: number; memberships: number } {
    let memberships = 0;
    for (const members of this.#groups.values()) memberships += members.size;
    return { channels: this.#channels.size + this.#sinks.size, groups: this.#groups.size, memberships };
  }

  // --- internals ---------------------------------------------------------------------------------

  /** Hands `message` to a connected consumer, unless its backlog has reached the channel's capacity. */
  #push(channel: string, sink: ChannelSink, message: Message): boolean {
    if (sink.backlog >= this.#capacityOf(channel)) return false;
    sink.push(message);
    return true;
  }

  #deliver(channel: string, message: Message, now: number): boolean {
    const sink = this.#sinks.get(channel);
    if (sink) return this.#push(channel, sink, message);
    const existing = this.#channels.get(channel);
    const waiter = existing?.waiters.shift();
    if (waiter) {
      waiter.resolve(copyMessage(message));
      return true;
    }
    const state = existing ?? this.#state(channel);
    this.#dropExpired(channel, state, now);
    if (state.buffer.length >= this.#capacityOf(channel)) return false;
    state.buffer.push({ expiresAt: now + this.#expiryMs, message });
    return true;
  }

  #state(channel: string): ChannelState {
    let state = this.#channels.get(channel);
    if (!state) {
      state = { buffer: [], waiters: [] };
      this.#channels.set(channel, state);
    }
    return state;
  }

  /**
   * Drops a channel's expired messages. Like Channels, a channel that let a message expire is
   * presumed dead and leaves every group, so group sends stop filling a buffer nobody reads.
   */
  #dropExpired(channel: string, state: ChannelState, now: number): void {
    let expired = 0;
    while (expired < state.buffer.length && state.buffer[expired]!.expiresAt <= now) expired++;
    if (expired === 0) return;
    state.buffer.splice(0, expired);
    for (const [group, members] of this.#groups) {
      if (members.delete(channel) && members.size === 0) this.#emptied(group);
    }
  }

  /** Forgets a group that has no member left, and says so. */
  #emptied(group: string): void {
    for (const channel of this.#groups.get(group)?.keys() ?? []) this.#sinks.get(channel)?.left?.(group);
    this.#groups.delete(group);
    this.#onGroupEmptied(group);
  }

  #forgetIfIdle(channel: string, state: ChannelState): void {
    if (state.buffer.length === 0 && state.waiters.length === 0) this.#channels.delete(channel);
  }

  /** Drops expired messages and memberships everywhere, at most once per interval: no timers, no leaks. */
  #maybeSweep(now: number): void {
    if (now - this.#lastSweep < SWEEP_INTERVAL_MS) return;
    this.#lastSweep = now;
    for (const [channel, state] of this.#channels) {
      this.#dropExpired(channel, state, now);
      this.#forgetIfIdle(channel, state);
    }
    for (const [group, members] of this.#groups) {
      for (const [channel, expiresAt] of members) {
        if (membershipExpired(expiresAt, now, this.#sinks.get(channel))) members.delete(channel);
      }
      if (members.size === 0) this.#emptied(group);
    }
  }
}

/** A connected consumer's (its `sink`) memberships last as long as it does; others end at `groupExpiry`. */
function membershipExpired(expiresAt: number, now: number, sink: ChannelSink | undefined): boolean {
  return expiresAt <= now && sink === undefined;
}
