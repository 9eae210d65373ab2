/**
 * The consumer lifecycle, in one runtime-neutral place used by every adapter and by the test
 * communicator: handshake decision, in-order handling of frames and layer messages, group
 * bookkeeping, exactly-once disconnect, error isolation.
 *
 *   start() -> channel + groups -> connect() -> accept() | close()    decides the handshake
 *   open(peer)                                    the runtime's socket is open; buffered sends flush
 *   receive(data)* / layer messages*              one at a time, in arrival order
 *   closed(code) -> groups left -> disconnect(code) -> channel gone    exactly once
 */
import { ConsumerStateError } from "../errors.ts";
import type { ChannelLayer, ChannelSink, LocalDelivery, Message } from "../layers/layer.ts";
import type { Logger } from "../log.ts";
import { DEFAULT_LIMITS, frameBytes, type Limits, RateLimiter } from "../security/limits.ts";
import { bindConnection, type Connection, type Consumer, type ConsumerClass } from "./consumer.ts";
import { handlerName, resolveHandler } from "./dispatch.ts";
import { type AcceptOptions, CloseCode, type CloseOptions, type Frame, type Peer } from "./peer.ts";
import { SerialQueue } from "./queue.ts";
import type { Scope } from "./scope.ts";

/** Close codes a server may put in a close frame (RFC 6455 7.4; 1004-1006 and 1015 are reserved). */
function isSendableCloseCode(code: number): boolean {
  return (
    (code >= 1000 && code <= 1014 && ![1004, 1005, 1006].includes(code)) || (code >= 3000 && code <= 4999)
  );
}

/** How the handshake ends: upgrade with these settings, or answer with an HTTP status. */
export type HandshakeDecision =
  | { accepted: true; subprotocol: string | null; headers: Record<string, string> }
  | { accepted: false; status: number };

type State = "connecting" | "accepted" | "closing" | "closed";

/** Options of a runner. */
export interface RunnerOptions {
  logger: Logger;
  layer: ChannelLayer;
  /** Frame size, rate and slow-client limits; `DEFAULT_LIMITS` when absent. */
  limits?: Limits;
}

/** How long a client that stopped reading gets to complete the close before it is dropped. */
const SLOW_CLIENT_GRACE_MS = 5000;
/** How long the runtime may take to open the socket after accept(); past it the upgrade failed. */
const OPEN_DEADLINE_MS = 10_000;

/** Drives one consumer instance through its connection's life. */
export class ConsumerRunner implements Connection, ChannelSink {
  readonly consumer: Consumer;
  readonly scope: Scope;
  readonly channelLayer: ChannelLayer;
  /** Resolves after `disconnect()` has run and the channel is gone. */
  readonly finished: Promise<void>;

  #state: State = "connecting";
  #peer: Peer | null = null;
  #queue = new SerialQueue();
  #logger: Logger;
  #decide!: (decision: HandshakeDecision) => void;
  #decision: Promise<HandshakeDecision>;
  #markFinished!: () => void;
  /** Frames sent after accept() but before the runtime opened the socket. */
  #pending: Array<string | Uint8Array> = [];
  /** A close the server started: its code is what disconnect sees. */
  #closeRequest: Required<CloseOptions> | null = null;
  #disconnectQueued = false;
  #discardFrames = false;
  /** Set when the client broke a limit: its later frames are ignored at once. */
  #inputRefused = false;
  #channelName: string | null = null;
  #stopListening: (() => void) | null = null;
  #groups = new Set<string>();
  #backlog = 0;
  #limits: Limits;
  #rate: RateLimiter | null;
  #pendingBytes = 0;
  /** Bytes of client frames received but not yet handled. */
  #inboundBytes = 0;
  #openTimer: ReturnType<typeof setTimeout> | undefined;
  /** Frames skipped for a slow client under the `drop` policy. */
  droppedFrames = 0;

  constructor(consumerClass: ConsumerClass, scope: Scope, options: RunnerOptions) {
    this.scope = scope;
    this.channelLayer = options.layer;
    this.#logger = options.logger;
    this.#limits = options.limits ?? DEFAULT_LIMITS;
    this.#rate =
      this.#limits.maxMessagesPerSecond > 0 ? new RateLimiter(this.#limits.maxMessagesPerSecond) : null;
    this.#decision = new Promise((resolve) => {
      this.#decide = resolve;
    });
    this.finished = new Promise((resolve) => {
      this.#markFinished = resolve;
    });
    this.consumer = new consumerClass(scope);
    bindConnection(this.consumer, this);
  }

  /** Opens the consumer's channel, joins its groups, runs `connect()`; resolves once it decides. */
  start(): Promise<HandshakeDecision> {
    this.#queue.push(async () => {
      try {
        const channel = await this.channelLayer.newChannel();
        this.#channelName = channel;
        this.#stopListening = (this.channelLayer as ChannelLayer & LocalDelivery).listen(channel, this);
        for (const group of this.consumer.groups) await this.groupAdd(group);
        await this.consumer.connect();
      } catch (error) {
        this.#fail("connect", error);
        return;
      }
      if (this.#state === "connecting") {
        this.#logger.warn(
          `${this.#name} returned from connect() without accept() or close(); refusing the connection`,
          { path: this.scope.path },
        );
        this.#reject(403);
      }
    });
    return this.#decision;
  }

  /** The runtime upgraded the socket: flush what was sent meanwhile. */
  open(peer: Peer): void {
    clearTimeout(this.#openTimer);
    if (this.#state === "closed" && !this.#closeRequest) {
      // The open came after the runner gave up on it (upgradeFailed): nothing is behind this socket.
      try {
        peer.close(CloseCode.goingAway, "");
      } catch {
        peer.terminate?.();
      }
      return;
    }
    this.#peer = peer;
    for (const data of this.#pending.splice(0)) peer.send(data);
    this.#pending = [];
    this.#pendingBytes = 0;
    if (this.#closeRequest) this.#closePeer(this.#closeRequest.code, this.#closeRequest.reason);
  }

  /** The runtime could not complete an accepted handshake: end the connection as if it dropped. */
  upgradeFailed(): void {
    clearTimeout(this.#openTimer);
    if (this.#peer === null) this.closed(CloseCode.abnormal);
  }

  /** A frame arrived from the client. */
  receive(data: string | Uint8Array): void {
    if (this.#state !== "accepted" || this.#inputRefused) return;
    const bytes = frameBytes(data, this.#limits.maxFrameBytes);
    const refusal =
      bytes > this.#limits.maxFrameBytes
        ? ([CloseCode.messageTooBig, "message too big"] as const)
        : this.#rate && !this.#rate.take()
          ? ([CloseCode.policyViolation, "rate limit exceeded"] as const)
          : this.#inboundBytes + bytes > this.#limits.maxPendingBytes
            ? ([CloseCode.policyViolation, "too many unhandled frames"] as const)
            : null;
    if (refusal) {
      // Nothing more from this client is queued (nor is the offending frame kept); the frames it
      // sent before are still handled, then the connection closes.
      this.#inputRefused = true;
      this.#queue.push(() => this.#refuseClient(refusal[0], refusal[1]));
      return;
    }
    const frame: Frame = typeof data === "string" ? { text: data } : { bytes: data };
    this.#inboundBytes += bytes;
    this.#queue.push(async () => {
      this.#inboundBytes -= bytes;
      // Frames queued before the client left are still handled (Channels does the same); frames
      // behind a close the server started, or behind a failure, are dropped.
      if (this.#discardFrames) return;
      try {
        await this.consumer.receive(frame);
      } catch (error) {
        this.#fail("receive", error);
      }
    });
  }

  /** The socket is gone, however it ended. Queues `disconnect()`, once. */
  closed(code: number): void {
    // A close we started reports our code: runtimes differ in what they echo back (Deno says 1005).
    this.#queueDisconnect(this.#closeRequest?.code ?? code);
  }

  /**
   * Closes the connection from the server side (shutdown) and waits for `disconnect()`.
   * If the client never completes the closing handshake, disconnect runs after `timeoutMs`.
   */
  async shutdown(code: number = CloseCode.goingAway, reason = "server shutting down", timeoutMs = 5000) {
    if (this.#state === "connecting") this.#reject(503);
    else this.#requestClose(code, reason);
    const timer = setTimeout(() => this.#queueDisconnect(code), timeoutMs);
    await this.finished;
    clearTimeout(timer);
  }

  /** The groups this connection is in. */
  get groups(): ReadonlySet<string> {
    return this.#groups;
  }

  // --- Connection: what the consumer calls -------------------------------------------------------

  get channelName(): string {
    if (this.#channelName === null)
      throw new ConsumerStateError(`${this.#name} has no channel before connect()`);
    return this.#channelName;
  }

  accept(options: AcceptOptions): void {
    if (this.#state !== "connecting") {
      throw new ConsumerStateError(`${this.#name}.accept() called after the handshake was decided`);
    }
    const subprotocol = options.subprotocol ?? null;
    if (subprotocol !== null && !this.scope.subprotocols.includes(subprotocol)) {
      throw new ConsumerStateError(
        `${this.#name}.accept() chose subprotocol "${subprotocol}", which the client did not offer ` +
          `(offered: ${JSON.stringify(this.scope.subprotocols)})`,
      );
    }
    this.#state = "accepted";
    // If the runtime never opens the socket (a client gone mid-handshake), do not wait forever.
    this.#openTimer = setTimeout(() => this.upgradeFailed(), OPEN_DEADLINE_MS);
    this.#decide({ accepted: true, subprotocol, headers: options.headers ?? {} });
  }

  send(frame: Frame): void {
    if (this.#state === "connecting") {
      throw new ConsumerStateError(`${this.#name}.send() called before accept()`);
    }
    if (this.#state !== "accepted") {
      this.#logger.debug(`${this.#name}.send() after close; frame dropped`, { path: this.scope.path });
      return;
    }
    const data = frame.text ?? frame.bytes;
    const peer = this.#peer;
    // A client that does not read must not make the server hold its backlog in memory.
    const queued = peer ? peer.bufferedAmount : this.#pendingBytes;
    if (queued > this.#limits.maxBufferedBytes) {
      this.#slowClient();
      return;
    }
    if (peer) {
      peer.send(data);
    } else {
      this.#pending.push(data);
      this.#pendingBytes += typeof data === "string" ? data.length : data.byteLength;
    }
  }

  close(options: CloseOptions): void {
    const { code, reason = "" } = options;
    if (code !== undefined && !isSendableCloseCode(code)) {
      throw new ConsumerStateError(
        `${this.#name}.close(): ${code} is not a code a server may send (1000-1003, 1007-1014, 3000-4999)`,
      );
    }
    if (frameBytes(reason, 123) > 123) {
      throw new ConsumerStateError(
        `${this.#name}.close(): the reason is over 123 bytes, the most a close frame holds`,
      );
    }
    if (this.#state === "connecting") {
      // Before accept there is no socket to carry a close code: 4400-4499 become that HTTP status
      // (4401 -> 401, 4403 -> 403), anything else a 403, as in Channels.
      const code = options.code ?? 0;
      this.#reject(code >= 4400 && code <= 4499 ? code - 4000 : 403);
      return;
    }
    this.#requestClose(options.code ?? CloseCode.normal, options.reason ?? "");
  }

  async groupAdd(group: string): Promise<void> {
    await this.channelLayer.groupAdd(group, this.channelName);
    this.#groups.add(group);
  }

  async groupDiscard(group: string): Promise<void> {
    this.#groups.delete(group);
    await this.channelLayer.groupDiscard(group, this.channelName);
  }

  // --- ChannelSink: where the layer pushes this connection's messages, straight into its queue ---

  /** Messages pushed but not yet handled: the channel's fill level for capacity checks. */
  get backlog(): number {
    return this.#backlog;
  }

  push(message: Message): void {
    this.#backlog++;
    this.#queue.push(async () => {
      this.#backlog--;
      if (this.#state === "closed" || this.#discardFrames) return;
      let handler: (message: unknown) => unknown;
      try {
        handler = resolveHandler(this.consumer, message.type);
      } catch (error) {
        // A message nobody may handle is the sender's mistake: log it, keep the connection.
        this.#logger.error(
          `${this.#name} refused a message at ${this.scope.path}: ${(error as Error).message}`,
          {
            consumer: this.#name,
            path: this.scope.path,
            type: message.type,
            error,
          },
        );
        return;
      }
      try {
        await handler.call(this.consumer, message);
      } catch (error) {
        this.#fail(handlerName(message.type), error, message.type);
      }
    });
  }

  // --- internals ---------------------------------------------------------------------------------

  get #name(): string {
    return this.consumer.constructor.name;
  }

  /** The client broke a limit: close with `code`, and say so in the log (it is the client's doing). */
  #refuseClient(code: number, reason: string): void {
    this.#logger.warn(`${this.#name} at ${this.scope.path}: ${reason}; closing with ${code}`, {
      consumer: this.#name,
      path: this.scope.path,
      client: this.scope.client,
    });
    this.#requestClose(code, reason);
  }

  /** The client's backlog passed `maxBufferedBytes`: drop this frame, or close and stop writing. */
  #slowClient(): void {
    if (this.#limits.slowClientPolicy === "drop") {
      if (this.droppedFrames++ === 0) {
        this.#logger.warn(`${this.#name} at ${this.scope.path}: client is not reading; dropping frames`);
      }
      return;
    }
    this.#refuseClient(CloseCode.tryAgainLater, "client too slow");
    // It may never read the close frame either: drop it after a grace period.
    const timer = setTimeout(() => {
      this.#peer?.terminate?.();
      this.#queueDisconnect(CloseCode.tryAgainLater);
    }, SLOW_CLIENT_GRACE_MS);
    void this.finished.then(() => clearTimeout(timer));
  }

  #reject(status: number): void {
    this.#state = "closing";
    this.#discardFrames = true;
    this.#decide({ accepted: false, status });
    // No socket will ever open; disconnect still runs so the consumer can clean up what connect() did.
    this.#queueDisconnect(CloseCode.abnormal);
  }

  #requestClose(code: number, reason: string): void {
    if (this.#state !== "accepted") return;
    this.#state = "closing";
    this.#discardFrames = true;
    this.#closeRequest = { code, reason };
    if (this.#peer) this.#closePeer(code, reason);
  }

  /** Closes the socket; if the runtime refuses (a broken socket), drops it and ends the connection. */
  #closePeer(code: number, reason: string): void {
    try {
      this.#peer?.close(code, reason);
    } catch (error) {
      this.#logError("close", error);
      this.#peer?.terminate?.();
      this.#queueDisconnect(code);
    }
  }

  #queueDisconnect(code: number): void {
    if (this.#disconnectQueued) return;
    this.#disconnectQueued = true;
    // The client is gone (or about to be): sends from here on are dropped.
    this.#state = "closed";
    this.#pending = [];
    this.#pendingBytes = 0;
    clearTimeout(this.#openTimer);
    this.#queue.push(async () => {
      await this.#leaveGroups();
      try {
        await this.consumer.disconnect(code);
      } catch (error) {
        this.#logError("disconnect", error);
      }
      this.#stopListening?.();
      this.#markFinished();
    });
  }

  /** Leaves every group this connection joined, declared or not: memberships must not outlive it. */
  async #leaveGroups(): Promise<void> {
    if (this.#channelName === null) return;
    for (const group of [...this.#groups]) {
      try {
        await this.groupDiscard(group);
      } catch (error) {
        this.#logError(`groupDiscard(${group})`, error);
      }
    }
  }

  /** A handler threw: log it, then end only this connection (1011, or HTTP 500 before accept). */
  #fail(handler: string, error: unknown, type?: string): void {
    this.#logError(handler, error, type);
    if (this.#state === "connecting") this.#reject(500);
    else this.#requestClose(CloseCode.internalError, "internal error");
  }

  #logError(handler: string, error: unknown, type?: string): void {
    this.#logger.error(`${this.#name}.${handler}() failed at ${this.scope.path}`, {
      consumer: this.#name,
      path: this.scope.path,
      ...(type === undefined ? {} : { type }),
      error,
    });
  }
}
