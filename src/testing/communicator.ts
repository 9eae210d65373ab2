/**
 * `WebsocketCommunicator`: drives a consumer in-process, without sockets or a server, through the
 * same runner the real server uses. Channels' `WebsocketCommunicator`, camelCased.
 * @example
 * const chat = new WebsocketCommunicator(ChatRoom, { path: "/chat/lobby", params: { room: "lobby" } });
 * expect((await chat.connect()).accepted).toBe(true);
 * await chat.sendJsonTo({ text: "hi" });
 * expect(await chat.receiveJsonFrom()).toEqual({ type: "chat.message", user: "anon", text: "hi" });
 * await chat.disconnect();
 */
import type { Peer } from "../adapters/runtime.ts";
import type { Consumer, ConsumerClass } from "../consumer/consumer.ts";
import type { Frame } from "../consumer/frames.ts";
import { ConsumerRunner } from "../consumer/runner.ts";
import { createScope, type Scope } from "../consumer/scope.ts";
import { CommunicatorError, CommunicatorTimeout, ConnectionClosed } from "../errors.ts";
import { getChannelLayer } from "../layers/default.ts";
import type { ChannelLayer } from "../layers/layer.ts";
import type { Logger } from "../log.ts";

/** Options of a communicator: the scope the consumer sees, and the layer it joins. */
export interface CommunicatorOptions extends Partial<Omit<Scope, "type" | "path" | "query" | "headers">> {
  /** Path and query string, e.g. `/chat/lobby?name=ada`. Default `/`. */
  path?: string;
  headers?: HeadersInit;
  /** Default: `getChannelLayer()`, the layer HTTP views and other communicators share. */
  layer?: ChannelLayer;
  /** Where the consumer's log lines go as well as `errors` (default: nowhere else). */
  logger?: Logger;
}

/** The outcome of `connect()`. */
export interface ConnectResult {
  accepted: boolean;
  /** The subprotocol the consumer accepted, if any. */
  subprotocol: string | null;
  /** 101 when accepted; else the HTTP status the refusal answers with (403, 4400-4499 -> 400-499, 500 if `connect()` threw). */
  status: number;
  /**
   * Null when accepted; else the close code the refusal stands for, as Channels reports it: the
   * code given to `close()` (1000 without one or when `connect()` decided nothing), 1011 if it threw.
   */
  code: number | null;
}

type Output = { frame: Frame } | { close: { code: number; reason: string } };

/** Connects one consumer instance to a test, as a client would. */
export class WebsocketCommunicator<C extends Consumer = Consumer> {
  /** Errors the consumer logged (handler failures, refused messages), oldest first. */
  readonly errors: unknown[] = [];
  readonly #runner: ConsumerRunner;
  /** The fake socket the runner writes to: frames and closes land in `#outputs`. */
  readonly #peer: Peer;
  #outputs: Output[] = [];
  #wake: (() => void) | null = null;
  #connected = false;
  /** The close the consumer sent, once a test has taken it: later reads and writes fail with it. */
  #closed: { code: number; reason: string } | null = null;

  constructor(consumer: ConsumerClass<C>, options: CommunicatorOptions = {}) {
    const { path = "/", headers, layer, logger, ...scope } = options;
    const peer: Peer = {
      send: (data) => this.#output({ frame: typeof data === "string" ? { text: data } : { bytes: data } }),
      close: (code, reason) => this.#output({ close: { code, reason } }),
      bufferedAmount: 0,
    };
    this.#runner = new ConsumerRunner(
      consumer,
      createScope(path, { ...scope, headers: new Headers(headers) }),
      {
        layer: layer ?? getChannelLayer(),
        logger: this.#recordingLogger(logger),
      },
    );
    this.#peer = peer;
  }

  /** The consumer instance, to inspect its state. */
  get consumer(): C {
    return this.#runner.consumer as C;
  }

  /** The consumer's channel name (after `connect()`). */
  get channelName(): string {
    return this.#runner.channelName;
  }

  /** The groups the consumer is in right now, sorted. */
  get groups(): string[] {
    return [...this.#runner.groups].sort();
  }

  /** Runs `connect()` and reports how the handshake ended. */
  async connect(timeoutMs = 1000): Promise<ConnectResult> {
    const decision = await within(this.#runner.start(), timeoutMs, "handshake decision");
    if (!decision.accepted) {
      return { accepted: false, subprotocol: null, status: decision.status, code: decision.code };
    }
    this.#connected = true;
    this.#runner.open(this.#peer);
    return { accepted: true, subprotocol: decision.subprotocol, status: 101, code: null };
  }

  /** Sends a text or binary frame to the consumer, as the client. */
  async sendTo(frame: Frame): Promise<void> {
    if (!this.#connected)
      throw new CommunicatorError("NOT_CONNECTED", "sendTo() before an accepted connect()");
    if (this.#closed) throw this.#closedError(this.#closed);
    this.#runner.receive(frame.text ?? frame.bytes);
  }

  /** Sends `data` as a JSON text frame. */
  async sendJsonTo(data: unknown): Promise<void> {
    await this.sendTo({ text: JSON.stringify(data) });
  }

  /** The next frame the consumer sent; throws `ConnectionClosed` if it closed instead. */
  async receiveFrom(timeoutMs = 1000): Promise<Frame> {
    const output = await this.#next(timeoutMs, "frame");
    if ("close" in output)
      throw new ConnectionClosed(output.close.code, output.close.reason, this.errors.at(-1));
    return output.frame;
  }

  /** The next frame, parsed as JSON; throws if it is binary. */
  async receiveJsonFrom(timeoutMs = 1000): Promise<unknown> {
    const frame = await this.receiveFrom(timeoutMs);
    if (frame.text === undefined)
      throw new CommunicatorError("NOT_TEXT", "Expected a JSON text frame, got a binary one.");
    return JSON.parse(frame.text);
  }

  /** The close the consumer started, skipping no frames: throws if a frame comes first. */
  async receiveClose(timeoutMs = 1000): Promise<{ code: number; reason: string }> {
    const output = await this.#next(timeoutMs, "close");
    if ("frame" in output)
      throw new CommunicatorError(
        "UNEXPECTED_FRAME",
        `Expected a close, got ${JSON.stringify(output.frame)}.`,
      );
    return output.close;
  }

  /** True if the consumer sends nothing (and does not close) within `timeoutMs`. */
  async receiveNothing(timeoutMs = 100): Promise<boolean> {
    if (this.#outputs.length > 0) return false;
    await new Promise((resolve) => setTimeout(resolve, timeoutMs));
    return this.#outputs.length === 0;
  }

  /** Closes the connection as the client would, and waits for `disconnect()` to finish. */
  async disconnect(code = 1000, timeoutMs = 1000): Promise<void> {
    this.#runner.closed(code);
    await within(this.#runner.finished, timeoutMs, "end of disconnect()");
  }

  #output(output: Output): void {
    this.#outputs.push(output);
    this.#wake?.();
  }

  #closedError(close: { code: number; reason: string }): ConnectionClosed {
    return new ConnectionClosed(close.code, close.reason, this.errors.at(-1));
  }

  async #next(timeoutMs: number, what: string): Promise<Output> {
    if (this.#outputs.length === 0 && this.#closed) return { close: this.#closed };
    const deadline = Date.now() + timeoutMs;
    while (this.#outputs.length === 0) {
      const left = deadline - Date.now();
      if (left <= 0) throw new CommunicatorTimeout(what, timeoutMs);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = null;
    }
    const output = this.#outputs.shift()!;
    if ("close" in output) this.#closed = output.close;
    return output;
  }

  #recordingLogger(next: Logger | undefined): Logger {
    return {
      debug: (message, details) => next?.debug(message, details),
      info: (message, details) => next?.info(message, details),
      warn: (message, details) => next?.warn(message, details),
      error: (message, details) => {
        this.errors.push(details?.error ?? new Error(message));
        next?.error(message, details);
      },
    };
  }
}

function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new CommunicatorTimeout(what, timeoutMs)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
