/**
 * A backplane carries what crosses processes; everything local stays in the hub. The layer calls
 * `subscribe` when this process gets its first member of a group and `unsubscribe` when it loses
 * its last, publishes every `groupSend` through `groupSend`, and sends to channels of other
 * processes (or plain channels stored by the backplane) through `send`. What other processes
 * publish comes back through the `BackplaneReceiver` handed to `start`.
 *
 * A new backplane (Redis Cluster, a channels_redis wire mode, Postgres LISTEN/NOTIFY) is one file
 * implementing this, plus a run of the layer and backplane contract suites against it.
 */
import type { LayerStatus, Message, StatusReporting } from "../layer.ts";

/** Where a backplane hands what arrives for this process: the process's hub. */
export interface BackplaneReceiver {
  /**
   * A group message published by any process (this one included), for every local member: the
   * backplane's own object (just decoded), which the hub shares until each member's turn comes.
   */
  group(group: string, message: Message): void;
  /** A message for one of this process's channels; false if that channel is full (the message is dropped). */
  channel(channel: string, message: Message): boolean;
}

/** What crosses processes. Every method may reject with `LayerUnavailableError` when the backend is away. */
export interface Backplane extends StatusReporting {
  /** Names this process in its channel names (`specific.<processId>!…`), so `send` can route to it. */
  readonly processId: string;
  /**
   * True when the backplane stores every membership itself, this process's channels included
   * (channels_redis's format: a group is a stored set of channels, and a group message is queued
   * for each): the layer hands it local joins and leaves too, and never subscribes.
   */
  readonly keepsMemberships?: boolean;
  /** The layer made a channel name with this prefix (`specific`, ...): a backplane with an inbox per prefix reads it. */
  channelCreated?(prefix: string): void;
  /** Starts delivering to `receiver`. Called once, by the layer, before any other method. */
  start(receiver: BackplaneReceiver): void;
  /** This process now has local members of `group`: deliver the group's messages here. Idempotent. */
  subscribe(group: string): Promise<void>;
  /**
   * This process has no local member of `group` left. Best effort: never rejects. The layer does
   * not wait for it, so it must take effect in call order: a `subscribe` called later wins.
   */
  unsubscribe(group: string): Promise<void>;
  /** Delivers to every process subscribed to `group` and to every member stored by the backplane. */
  groupSend(group: string, message: Message): Promise<void>;
  /** Stores a membership for a channel that lives in no process's hub (a plain or another process's channel). */
  groupAdd(group: string, channel: string): Promise<void>;
  /** Removes a stored membership. */
  groupDiscard(group: string, channel: string): Promise<void>;
  /** Sends to another process's channel, or queues on a plain channel; throws `ChannelFull`. */
  send(channel: string, message: Message): Promise<void>;
  /** Waits for the next message of a plain channel the backplane stores. */
  receive(channel: string, signal?: AbortSignal): Promise<Message>;
  /** Takes or renews the lease `name` for `holder` for `ttlMs`; false if another holder has it. */
  acquireLease?(name: string, holder: string, ttlMs: number): Promise<boolean>;
  /** Gives the lease back if `holder` has it. */
  releaseLease?(name: string, holder: string): Promise<void>;
  /** Messages queued on a plain channel the backplane stores (a worker's backlog). */
  queued?(channel: string): Promise<number>;
  /** Drops everything the backplane stores for this application. */
  flush(): Promise<void>;
  /** Releases connections; pending receives reject with `LayerClosedError`. */
  close(): Promise<void>;
  /** The groups this process is subscribed to, for leak checks. */
  readonly subscriptions: number;
  readonly status: LayerStatus;
}
