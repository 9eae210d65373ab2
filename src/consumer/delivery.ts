/**
 * What reaches a consumer, in one queue and in arrival order: frames from the client, once flow
 * control admits them, and layer messages, pushed by a layer that can (`listen`) or pulled by a
 * `receive()` loop, Channels' own way, from a layer that has only Channels' methods.
 */
import type { Peer } from "../adapters/runtime.ts";
import { LayerClosedError } from "../errors.ts";
import { copyMessage } from "../layers/codec.ts";
import {
  type ChannelLayer,
  type ChannelSink,
  canListen,
  type FanOut,
  type Message,
} from "../layers/layer.ts";
import { counters, handlerEnded } from "../metrics/counters.ts";
import type { Limits } from "../security/limits.ts";
import type { ConnectionLog } from "./connection-log.ts";
import { type Consumer, SENT } from "./consumer.ts";
import { handlerName, resolveHandler } from "./dispatch.ts";
import { InboundGuard } from "./flow.ts";
import type { Frame } from "./frames.ts";
import type { SerialQueue } from "./queue.ts";
import { hasTopics, RelayTopics } from "./relay.ts";
import { noteCopy } from "./shared-json.ts";

/**
 * What an inbox needs from its connection: the connection is also the serial queue its frames and
 * messages wait in, in turn with its own tasks (connect, disconnect).
 */
export interface InboxOptions extends SerialQueue {
  consumer: Consumer;
  /** The layer the connection's channel is on, and the channel's name once it has one. */
  readonly channelLayer: ChannelLayer;
  readonly channelName: string;
  log: ConnectionLog;
  /** Whether a frame or a message is handled; asked when its turn comes (false drops it). */
  handles(kind: "frame" | "message"): boolean;
  /** The client broke a limit; called in the refused frame's turn. */
  onRefused(code: number, reason: string): void;
  /** A handler threw: the connection decides what that ends. */
  onFailed(method: string, error: unknown, type?: string): void;
  /** The message types the consumer's class relays (`static relays`; consumer/relay.ts). */
  readonly relays: ReadonlySet<string>;
  /** Writes a relayed message to the client now; false while the handshake is undecided (it waits its turn). */
  relay(message: Message): boolean;
  /** The last relay that waited in the queue is out: native topics may start (they would overtake it). */
  relaysCaughtUp(): void;
}

/**
 * Where frames and layer messages wait for their handler: the layer's sink for this connection.
 * It is its own inbound guard (flow.ts judges each frame): one object per connection, not two.
 */
export class Inbox extends InboundGuard implements ChannelSink {
  readonly #options: InboxOptions;
  /**
   * The connection's native topics while its socket has them (`startTopics`, `stopTopics`):
   * here, because the hub asks this inbox about them for every group message to every member.
   */
  topics: RelayTopics | null = null;
  #backlog = 0;
  /** Relayed messages waiting in the queue (pushed before the handshake was decided). */
  #queuedRelays = 0;
  /** How the channel is let go: the layer's `unlisten`, or the stop of a `receive()` loop. */
  #stop: (() => void) | "unlisten" | null = null;

  constructor(options: InboxOptions, limits: Limits) {
    super(limits);
    this.#options = options;
    options.runMessagesWith(this);
  }

  /** Whether relayed messages wait in the queue; until they are out, no native topic may deliver. */
  get relaysWaiting(): boolean {
    return this.#queuedRelays > 0;
  }

  /** Messages pushed but not yet handled: the channel's fill level for capacity checks. */
  get backlog(): number {
    return this.#backlog;
  }

  /** Queues a client frame, unless flow control refuses it. */
  frame(data: string | Uint8Array): void {
    const queue = this.#options;
    const verdict = this.admit(data);
    if (verdict.action === "ignore") return;
    if (verdict.action === "refuse") {
      // Queued: the frames the client sent before are still handled, then the connection closes.
      queue.push(() => this.#options.onRefused(verdict.code, verdict.reason));
      return;
    }
    counters.framesIn++;
    const frame: Frame = typeof data === "string" ? { text: data } : { bytes: data };
    queue.push((started) => {
      this.taken(verdict.bytes);
      if (!this.#options.handles("frame")) return;
      return this.#timed(started, queue.consumer.receive, frame);
    });
  }

  /** Queues a message the layer pushed; a relayed one skips the queue, unless relays wait in it. */
  push(message: Message): void {
    const options = this.#options;
    if (options.relays.has(message.type)) {
      // Relays queued before the handshake was decided go first: one waiting keeps the next waiting.
      if (this.#queuedRelays === 0 && options.relay(message)) return;
      this.#queuedRelays++;
    }
    this.#backlog++;
    options.push(message);
  }

  /** The runtime's fan-out that reaches this connection for `type` messages to `group`, if any. */
  fanOutFor(group: string, type: string): FanOut | null {
    return this.topics?.fanOutFor(group, type) ?? null;
  }

  /** The layer took this channel out of `group`: its native topics for the group go too. */
  left(group: string): void {
    this.topics?.leave(group);
  }

  /**
   * Subscribes the open socket to native topics for the groups it is in, once nothing stands in
   * the way: the class relays something, the runtime publishes, and no relay still waits in the
   * queue (a publish would overtake it; `relaysCaughtUp` comes again when the last is out).
   */
  startTopics(peer: Peer, groups: Iterable<string>): void {
    const { relays } = this.#options;
    if (this.topics || relays.size === 0 || !hasTopics(peer) || this.relaysWaiting) return;
    const topics = new RelayTopics(peer, relays);
    for (const group of groups) topics.join(group);
    this.topics = topics;
  }

  /** Nothing more is sent to the client: published relays stop too. */
  stopTopics(): void {
    this.topics?.clear();
    this.topics = null;
  }

  /** Runs a queued message's handler: the queue calls this when the message's turn comes. */
  run(started: number, message: Message): PromiseLike<void> | undefined {
    this.#backlog--;
    return this.#options.handles("message") ? this.#dispatch(started, message) : undefined;
  }

  /** Starts delivering the connection's channel's messages from its layer. */
  open(): void {
    const { channelLayer: layer, channelName: channel } = this.#options;
    if (canListen(layer)) {
      layer.listen(channel, this);
      this.#stop = "unlisten";
      return;
    }
    const deliver = (message: Message) =>
      new Promise<void>((handled) => this.#enqueueReceived(message, handled));
    this.#stop = receiveLoop(layer, channel, deliver, (error) =>
      this.#options.log.receiveFailed(channel, error),
    );
  }

  /** Stops delivery; a pending `receive()` is cancelled. */
  close(): void {
    const stop = this.#stop;
    this.#stop = null;
    // A layer that fails to let go is logged; the connection still ends (its disconnect is done).
    try {
      if (stop === "unlisten") {
        const { channelLayer, channelName } = this.#options;
        if (canListen(channelLayer)) channelLayer.unlisten(channelName, this);
      } else stop?.();
    } catch (error) {
      this.#options.log.failed("unlisten", error);
    }
  }

  /** Queues a message a `receive()` loop got; `handled` is called once its turn is over. */
  #enqueueReceived(message: Message, handled: () => void): void {
    this.#backlog++;
    if (this.#options.relays.has(message.type)) this.#queuedRelays++; // relayed in its turn, below
    this.#options.push((started) => {
      const running = this.run(started, message);
      if (!running) return handled();
      return running.then(handled, handled);
    });
  }

  /** Runs the handler for `message`. */
  #dispatch(started: number, message: Message): PromiseLike<void> | undefined {
    const { consumer, log, relays } = this.#options;
    // Queued while the handshake was undecided: relayed now, in its turn.
    if (relays.has(message.type)) {
      this.#options.relay(message);
      if (--this.#queuedRelays === 0) this.#options.relaysCaughtUp();
      return;
    }
    let handler: (message: unknown) => unknown;
    try {
      handler = resolveHandler(consumer, message.type);
    } catch (error) {
      log.refusedMessage(message.type, error as Error);
      return;
    }
    // Its own copy, made now rather than when queued: until this turn one object served every member.
    const own = copyMessage(message);
    noteCopy(own, message);
    return this.#timed(started, handler, own, message.type);
  }

  /**
   * Runs one of the consumer's handlers (`receive`, or the handler of a message's `type`), timing
   * it from `started` for the metrics; a throw or a rejection goes to `onFailed`. Not async on purpose: a
   * synchronous handler costs no promise, and this runs once per member of every group message.
   */
  #timed(
    started: number,
    handler: (arg: never) => unknown,
    arg: unknown,
    type?: string,
  ): PromiseLike<void> | undefined {
    try {
      const result = handler.call(this.#options.consumer, arg as never);
      // SENT is settled already: waiting on it would only cost the queue a turn of microtasks.
      if (result !== SENT && isThenable(result)) {
        return result.then(
          () => handlerEnded(started),
          (error) => {
            handlerEnded(started);
            this.#failed(error, type);
          },
        );
      }
    } catch (error) {
      this.#failed(error, type);
    }
    handlerEnded(started);
  }

  #failed(error: unknown, type: string | undefined): void {
    this.#options.onFailed(type === undefined ? "receive" : handlerName(type), error, type);
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === "function";
}

/**
 * Receives on `channel` and hands each message to `deliver` (which must not reject), waiting until
 * it has been handled before receiving the next, so undelivered messages stay in the layer, where
 * its capacity bounds them. Returns the way to stop: it cancels the pending `receive()`.
 */
function receiveLoop(
  layer: ChannelLayer,
  channel: string,
  deliver: (message: Message) => Promise<void>,
  onError: (error: unknown) => void,
): () => void {
  const controller = new AbortController();
  const { signal } = controller;
  void (async () => {
    while (!signal.aborted) {
      let message: Message;
      try {
        message = await layer.receive(channel, { signal });
      } catch (error) {
        // Stopped, or the layer closed with the server: both are how this loop is meant to end.
        if (!signal.aborted && !(error instanceof LayerClosedError)) onError(error);
        return;
      }
      await deliver(message);
    }
  })();
  return () => controller.abort();
}
