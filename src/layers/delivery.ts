/**
 * `DeliveryLayer`: a channel layer made of this process's hub and, when messages must cross
 * processes, a backplane. Validation and the choice between local and remote live here once, so
 * neither the hub nor any backplane repeats them. `InMemoryChannelLayer` is the hub alone;
 * `RedisChannelLayer` adds the Redis backplane.
 */

import type { Leases } from "../background/lease.ts";
import { ChannelFull, LayerClosedError, NotLocalError } from "../errors.ts";
import { counters } from "../metrics/counters.ts";
import type { Backplane } from "./backplanes/backplane.ts";
import { copyMessage } from "./codec.ts";
import { Hub, type HubOptions } from "./hub.ts";
import type { ChannelLayer, ChannelSink, LocalDelivery, Message, MessageMap, MessageOf } from "./layer.ts";
import { assertChannelName, assertGroupName, assertMessage, processOf } from "./rules.ts";

/** A channel layer: local delivery through a hub, and a backplane for what crosses processes. */
export class DeliveryLayer<M extends MessageMap = MessageMap> implements ChannelLayer<M>, LocalDelivery {
  protected readonly hub: Hub;
  readonly #backplane: Backplane | null;
  /** The part of this process's channel names after the prefix: `specific.<processId>!<id>`. */
  readonly #processId: string;
  /** The last queued local join or leave per group, so they run in order (see #inOrder). */
  readonly #groupOps = new Map<string, Promise<void>>();
  #closed = false;

  constructor(options: HubOptions, backplane: Backplane | null) {
    this.hub = new Hub({ ...options, onGroupEmptied: (group) => this.#unsubscribeIfEmpty(group) });
    this.#backplane = backplane;
    this.#processId = backplane?.processId ?? "inmemory";
    backplane?.start({
      group: (group, message) => this.hub.groupSend(group, message),
      channel: (channel, message) => this.hub.deliver(channel, message),
    });
  }

  async send(channel: string, message: MessageOf<M>): Promise<void> {
    counters.sends++;
    try {
      this.#assertOpen();
      assertChannelName(channel);
      assertMessage(message);
      if (!this.#isLocal(channel)) return await this.#backplane!.send(channel, message);
      // Cloned now: a sender that mutates its object afterwards changes nothing delivered.
      if (!this.hub.deliver(channel, copyMessage(message))) {
        throw new ChannelFull(channel, this.hub.capacityOf(channel));
      }
    } catch (error) {
      counters.layerErrors++; // backend away, full channel, bad message: for the metrics
      throw error;
    }
  }

  async receive(channel: string, options: { signal?: AbortSignal } = {}): Promise<Message> {
    this.#assertOpen();
    assertChannelName(channel);
    if (this.#isLocal(channel)) return this.hub.receive(channel, options.signal);
    if (processOf(channel) !== null) throw new NotLocalError(channel);
    return this.#backplane!.receive(channel, options.signal);
  }

  async newChannel(prefix = "specific"): Promise<string> {
    this.#assertOpen();
    const name = `${prefix}.${this.#processId}!${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
    assertChannelName(name);
    this.#backplane?.channelCreated?.(prefix);
    return name;
  }

  listen(channel: string, sink: ChannelSink): void {
    this.#assertOpen();
    assertChannelName(channel);
    if (!this.#isLocal(channel)) throw new NotLocalError(channel);
    this.hub.listen(channel, sink);
  }

  unlisten(channel: string, sink: ChannelSink): void {
    this.hub.unlisten(channel, sink);
  }

  async groupAdd(group: string, channel: string): Promise<void> {
    this.#assertOpen();
    assertGroupName(group);
    assertChannelName(channel);
    const backplane = this.#backplane;
    if (!backplane) return this.hub.join(group, channel);
    if (!this.#isLocal(channel) || backplane.keepsMemberships) return backplane.groupAdd(group, channel);
    await this.#inOrder(group, async () => {
      // Subscribe before counting the member in: a groupSend that follows must reach it.
      await backplane.subscribe(group);
      this.hub.join(group, channel);
    });
  }

  async groupDiscard(group: string, channel: string): Promise<void> {
    this.#assertOpen();
    assertGroupName(group);
    assertChannelName(channel);
    const backplane = this.#backplane;
    if (!backplane) return this.hub.leave(group, channel);
    if (!this.#isLocal(channel) || backplane.keepsMemberships) return backplane.groupDiscard(group, channel);
    // In the group's order, so a join in flight cannot be undone by this leave; that wait is
    // bounded by the backplane's command timeout.
    await this.#inOrder(group, async () => {
      this.hub.leave(group, channel);
      this.#letGo(group);
    });
  }

  async groupSend(group: string, message: MessageOf<M>): Promise<void> {
    counters.groupSends++;
    try {
      this.#assertOpen();
      assertGroupName(group);
      assertMessage(message);
      // With a backplane, local members get the message when it comes back from the backplane, like
      // every other process's members: one path, one order for everyone.
      if (this.#backplane) return await this.#backplane.groupSend(group, message);
      this.hub.groupSend(group, copyMessage(message));
    } catch (error) {
      counters.layerErrors++;
      throw error;
    }
  }

  async flush(): Promise<void> {
    this.#assertOpen();
    this.hub.flush();
    await this.#backplane?.flush();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.hub.close();
    await this.#backplane?.close();
  }

  /**
   * Named leases shared by every process on this layer's backend (one runner per periodic task);
   * null when the layer is this process alone, where no other process could hold one.
   */
  get leases(): Leases | null {
    const backplane = this.#backplane;
    if (!backplane) return null;
    if (!backplane.acquireLease || !backplane.releaseLease) {
      throw new TypeError(
        `${backplane.constructor.name} cannot hold leases: periodic tasks need a backplane that can.`,
      );
    }
    return {
      acquire: (name, holder, ttlMs) => backplane.acquireLease!(name, holder, ttlMs),
      release: (name, holder) => backplane.releaseLease!(name, holder),
    };
  }

  /**
   * Messages waiting on `channel` for a `receive()` (a worker's backlog): in the backend for a
   * plain channel of a shared layer, else in this process.
   */
  async queued(channel: string): Promise<number> {
    const backplane = this.#backplane;
    if (backplane?.queued && !this.#isLocal(channel)) return backplane.queued(channel);
    return this.hub.queued(channel);
  }

  /** Group messages skipped here because the member's channel was full. */
  get skippedFull(): number {
    return this.hub.skippedFull;
  }

  // --- internals ---------------------------------------------------------------------------------

  /**
   * Lets the group's subscription go if no local member is left. Not awaited: a leave (and the
   * disconnect() behind it) must not wait on a slow backplane; the UNSUBSCRIBE is written at once,
   * so a later join's SUBSCRIBE still comes after it.
   */
  #letGo(group: string): void {
    if (this.#backplane && !this.hub.hasMembers(group)) void this.#backplane.unsubscribe(group);
  }

  /** The hub dropped a group's last membership by itself (expiry, flush): the same, in the group's order. */
  #unsubscribeIfEmpty(group: string): void {
    if (this.#backplane) void this.#inOrder(group, async () => this.#letGo(group));
  }

  #isLocal(channel: string): boolean {
    return this.#backplane === null || processOf(channel) === this.#processId;
  }

  /**
   * Runs one group's local joins and leaves one after another. Interleaved, a leave could
   * unsubscribe after a concurrent join subscribed, leaving a member counted but not subscribed.
   */
  #inOrder(group: string, task: () => Promise<void>): Promise<void> {
    const run = (this.#groupOps.get(group) ?? Promise.resolve()).then(task);
    const settled = run.catch(() => {});
    this.#groupOps.set(group, settled);
    void settled.then(() => {
      if (this.#groupOps.get(group) === settled) this.#groupOps.delete(group);
    });
    return run;
  }

  #assertOpen(): void {
    if (this.#closed) throw new LayerClosedError();
  }
}
