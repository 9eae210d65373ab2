/**
 * The consumer lifecycle, in one runtime-neutral place used by every adapter and by the test
 * communicator: handshake decision, in-order handling of frames and layer messages, exactly-once
 * disconnect, error isolation. Its parts: flow.ts judges limits, socket.ts writes, delivery.ts
 * brings layer messages, groups.ts keeps memberships; this file decides what happens when.
 *
 *   start() -> channel + groups -> connect() -> accept() | close()    decides the handshake
 *   open(peer)                                    the runtime's socket is open; held sends flush
 *   receive(data)* / layer messages*              one at a time, in arrival order
 *   closed(code) -> groups left -> disconnect(code) -> channel gone    exactly once
 */
import type { Peer, SocketEvents } from "../adapters/runtime.ts";
import { ConsumerStateError } from "../errors.ts";
import type { ChannelLayer, Message } from "../layers/layer.ts";
import type { Logger } from "../log.ts";
import { DEFAULT_LIMITS, type Limits } from "../security/limits.ts";
import { ConnectionLog } from "./connection-log.ts";
import { bindConnection, type Connection, type Consumer, type ConsumerClass } from "./consumer.ts";
import { Inbox, type InboxOptions } from "./delivery.ts";
import { type AcceptOptions, CloseCode, type CloseOptions, closeProblem, type Frame } from "./frames.ts";
import { Memberships, NO_GROUPS } from "./groups.ts";
import * as handshake from "./handshake.ts";
import { ACCEPTED, CONNECTING, canMove, DRAINING, type State } from "./phases.ts";
import { SerialQueue } from "./queue.ts";
import { relayText, relayTypes } from "./relay.ts";
import type { Scope } from "./scope.ts";
import { type Close, closeLateSocket, SocketEnd } from "./socket.ts";

/** Told once when a runner has finished (a `ConnectionSet`): no promise or closure per connection. */
export interface FinishListener {
  runnerFinished(runner: ConsumerRunner): void;
}

/** Options of a runner. */
export interface RunnerOptions {
  logger: Logger;
  layer: ChannelLayer;
  /** Frame size, rate and slow-client limits; `DEFAULT_LIMITS` when absent. */
  limits?: Limits;
}

/**
 * Drives one consumer instance through its connection's life. It is also what its inbox calls back
 * into (`InboxOptions`): methods of the one object, not closures, which would each cost an idle
 * connection a function (and, under tsx's keepNames, a property array) for its whole life. They
 * are public to this folder only: the consumer reaches its runner through `Connection`.
 */
export class ConsumerRunner extends SerialQueue implements Connection, InboxOptions, SocketEvents {
  readonly consumer: Consumer;
  readonly scope: Scope;
  readonly channelLayer: ChannelLayer;
  readonly log: ConnectionLog;
  readonly relays: ReadonlySet<string>;

  #state: State = CONNECTING;
  /** Until the handshake is decided; then let go, with the decision it kept. */
  #handshake: handshake.Handshake | null = new handshake.Handshake();
  #socket: SocketEnd;
  #inbox: Inbox;
  /** Made on the first join: many consumers never join a group. */
  #groups: Memberships | null = null;
  #channelName: string | null = null;
  // An idle connection keeps no promise for its end: made when someone asks (shutdown, tests).
  #finished: { promise: Promise<void>; resolve(): void } | "done" | null = null;
  #finishListener: FinishListener | null = null;
  /** Under the `drop` policy relays stay on the runner's path, which counts what it drops. */
  readonly #nativeTopics: boolean;

  constructor(consumerClass: ConsumerClass, scope: Scope, options: RunnerOptions) {
    super();
    this.scope = scope;
    this.channelLayer = options.layer;
    const limits = options.limits ?? DEFAULT_LIMITS;
    this.#socket = new SocketEnd(limits);
    this.consumer = new consumerClass(scope);
    bindConnection(this.consumer, this);
    this.log = new ConnectionLog(options.logger, this.#name, scope);
    this.relays = relayTypes(consumerClass);
    this.#nativeTopics = limits.slowClientPolicy === "close";
    this.#inbox = new Inbox(this, limits);
  }

  /** Opens the consumer's channel, joins its groups, runs `connect()`; resolves once it decides. */
  start(): Promise<handshake.HandshakeDecision> {
    this.push(async () => {
      try {
        this.#channelName = await this.channelLayer.newChannel();
        this.#inbox.open();
        for (const group of this.consumer.groups) await this.groupAdd(group);
        await this.consumer.connect();
      } catch (error) {
        this.onFailed("connect", error);
        return;
      }
      if (this.#state.phase === "connecting") {
        this.log.undecided();
        this.#refuse(handshake.closedBeforeAccept());
      }
    });
    return (this.#handshake as handshake.Handshake).decided;
  }

  /** Resolves after `disconnect()` has run and the channel is gone. */
  get finished(): Promise<void> {
    if (this.#finished === "done") return Promise.resolve();
    if (this.#finished === null) {
      let resolve!: () => void;
      const promise = new Promise<void>((done) => {
        resolve = done;
      });
      this.#finished = { promise, resolve };
    }
    return this.#finished.promise;
  }

  /** Tells `listener` once, when this runner has finished (one listener: its connection set). */
  onFinished(listener: FinishListener): void {
    this.#finishListener = listener;
  }

  /** The runtime upgraded the socket: flush what was sent meanwhile. */
  open(peer: Peer): void {
    const state = this.#state;
    if (state.phase === "accepted" || state.phase === "closing") {
      this.#socket.attach(peer);
      this.log.opened();
      this.relaysCaughtUp();
      if (state.phase === "closing") this.#closeSocket(state.close);
      return;
    }
    // The open came after the runner gave up on it (upgradeFailed, a close that timed out):
    // nothing is behind this socket, which only gets the close it was owed.
    closeLateSocket(peer, state.phase === "closed" ? state.close : null);
  }

  /** The runtime could not complete an accepted handshake: end the connection as if it dropped. */
  upgradeFailed(): void {
    if (!this.#socket.opened) this.closed(CloseCode.abnormal);
  }

  /** A frame arrived from the client. */
  receive(data: string | Uint8Array): void {
    if (this.#state.phase === "accepted") this.#inbox.frame(data);
  }

  /** The socket is gone, however it ended. Queues `disconnect()`, once. */
  closed(code: number): void {
    const state = this.#state;
    // A close we started reports our code: runtimes differ in what they echo back (Deno says 1005).
    this.#end(state.phase === "closing" ? state.close.code : code);
  }

  /**
   * Closes the connection from the server side (shutdown) and waits for `disconnect()`.
   * If the client never completes the closing handshake, disconnect runs after `timeoutMs`.
   */
  async shutdown(code: number = CloseCode.goingAway, reason = "server shutting down", timeoutMs = 5000) {
    if (this.#state.phase === "connecting") this.#refuse(handshake.shutdownDuringConnect(code));
    else this.#requestClose({ code, reason });
    const timer = setTimeout(() => this.#end(code), timeoutMs);
    await this.finished;
    clearTimeout(timer);
  }

  /** The groups this connection is in. */
  get groups(): ReadonlySet<string> {
    return this.#groups?.names ?? NO_GROUPS;
  }

  /** Frames skipped for a slow client under the `drop` policy. */
  get droppedFrames(): number {
    return this.#socket.droppedFrames;
  }

  get channelName(): string {
    if (this.#channelName === null)
      throw new ConsumerStateError(`${this.#name} has no channel before connect()`);
    return this.#channelName;
  }

  accept(options: AcceptOptions): void {
    if (this.#state.phase !== "connecting") {
      throw new ConsumerStateError(`${this.#name}.accept() called after the handshake was decided`);
    }
    (this.#handshake as handshake.Handshake).accept(options, this.#name, this.scope);
    this.#handshake = null;
    this.#enter(ACCEPTED);
    this.#socket.expectOpen(() => this.upgradeFailed());
  }

  send(frame: Frame): void {
    const { phase } = this.#state;
    if (phase === "connecting") throw new ConsumerStateError(`${this.#name}.send() called before accept()`);
    if (phase !== "accepted") {
      this.log.droppedSend();
      return;
    }
    const verdict = this.#socket.write(frame.text ?? frame.bytes);
    if (verdict === "close") {
      // The client stopped reading: close, and drop it if it does not read the close frame either.
      this.onRefused(CloseCode.tryAgainLater, "client too slow");
      this.#socket.dropAfter(() => this.#end(CloseCode.tryAgainLater));
    } else if (verdict === "drop" && this.#socket.droppedFrames === 1) this.log.droppingFrames();
  }

  close(options: CloseOptions): void {
    const problem = closeProblem(options);
    if (problem) throw new ConsumerStateError(`${this.#name}.close(): ${problem}`);
    if (this.#state.phase === "connecting") this.#refuse(handshake.closedBeforeAccept(options.code));
    else this.#requestClose({ code: options.code ?? CloseCode.normal, reason: options.reason ?? "" });
  }

  async groupAdd(group: string): Promise<void> {
    await this.#memberships().add(group);
    this.#inbox.topics?.join(group);
  }

  // Leaving needs no word to the topics here: the layer tells the inbox (`left`) when it takes the
  // channel out of the group, and until then the group's messages reach it either way.
  groupDiscard(group: string): Promise<void> {
    return this.#memberships().discard(group);
  }

  // --- what the inbox calls (InboxOptions) ------------------------------------------------------

  /** What the queue still handles: frames sent before the client left too (as in Channels). */
  handles(kind: "frame" | "message"): boolean {
    const { phase } = this.#state;
    return phase === "accepted" || (phase === "draining" && kind === "frame");
  }

  /** The client broke a limit: close with `code`, and say so in the log (it is the client's doing). */
  onRefused(code: number, reason: string): void {
    this.log.refusedClient(code, reason);
    this.#requestClose({ code, reason });
  }

  /** A handler threw: log it, then end only this connection (1011, or HTTP 500 before accept). */
  onFailed(method: string, error: unknown, type?: string): void {
    this.log.failed(method, error, type);
    if (this.#state.phase === "connecting") this.#refuse(handshake.failedConnect());
    else this.#requestClose({ code: CloseCode.internalError, reason: "internal error" });
  }

  /** Writes a relayed message now; false while connecting, when it waits for its turn in the queue. */
  relay(message: Message): boolean {
    const { phase } = this.#state;
    if (phase === "connecting") return false;
    if (phase === "accepted") this.send({ text: relayText(message) });
    return true;
  }

  /**
   * Subscribes the open socket to its native topics, unless the policy keeps relays on the
   * runner's path or the connection is no longer accepted; the inbox checks the rest.
   */
  relaysCaughtUp(): void {
    const peer = this.#socket.peer;
    if (peer && this.#nativeTopics && this.#state.phase === "accepted") {
      this.#inbox.startTopics(peer, this.groups);
    }
  }

  #memberships(): Memberships {
    this.#groups ??= new Memberships(this.channelLayer, this);
    return this.#groups;
  }

  get #name(): string {
    return this.consumer.constructor.name;
  }

  /** The one place the state changes; a transition phases.ts does not allow is a bug in this file. */
  #enter(next: State): void {
    const from = this.#state.phase;
    if (!canMove(from, next.phase)) throw new Error(`runner: illegal transition ${from} -> ${next.phase}`);
    this.#state = next;
  }

  /** Answers the handshake with a refusal; only while `connecting`. */
  #refuse(refusal: handshake.Refusal): void {
    this.#handshake?.refuse(refusal);
    this.#handshake = null;
    // No socket will ever open; disconnect still runs so the consumer can clean up what connect() did.
    this.#end(CloseCode.abnormal);
  }

  /** Starts the closing handshake from the server side; only an accepted connection has one to start. */
  #requestClose(close: Close): void {
    if (this.#state.phase !== "accepted") return;
    this.#enter({ phase: "closing", close });
    this.#inbox.stopTopics();
    this.#closeSocket(close);
  }

  /** Closes the socket if it is open; if the runtime refuses (a broken socket), ends the connection. */
  #closeSocket(close: Close): void {
    const failure = this.#socket.close(close);
    if (!failure) return;
    this.log.failed("close", failure.error);
    this.#end(close.code);
  }

  /** The connection is over, or given up on: queues `disconnect(code)`, once. */
  #end(code: number): void {
    const state = this.#state;
    if (state.phase === "draining" || state.phase === "closed") return;
    this.#enter(
      state.phase === "accepted"
        ? DRAINING
        : { phase: "closed", close: state.phase === "closing" ? state.close : null },
    );
    this.log.ended(code);
    // Sends from here on are dropped: what was held for the socket is nobody's now.
    this.#socket.abandon();
    this.#inbox.stopTopics();
    this.push(async () => {
      // Every frame queued before this task has been handled.
      if (this.#state.phase === "draining") this.#enter({ phase: "closed", close: null });
      await this.#groups?.leaveAll((group, error) => this.log.failed(`groupDiscard(${group})`, error));
      try {
        await this.consumer.disconnect(code);
      } catch (error) {
        this.log.failed("disconnect", error);
      }
      this.#inbox.close();
      this.#socket.dispose();
      const finished = this.#finished;
      this.#finished = "done";
      if (finished !== null && finished !== "done") finished.resolve();
      this.#finishListener?.runnerFinished(this);
    });
  }
}
