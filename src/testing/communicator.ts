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
import type { Consumer, ConsumerClass } from "../consumer/consumer.ts";
import type { Frame } from "../consumer/frames.ts";
import { ConsumerRunner } from "../consumer/runner.ts";
import { createScope, type Scope } from "../consumer/scope.ts";
import { CommunicatorError } from "../errors.ts";
import { getChannelLayer } from "../layers/default.ts";
import type { ChannelLayer } from "../layers/layer.ts";
import type { Logger } from "../log.ts";
import { ClientEnd, within } from "./client-end.ts";

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

/** Connects one consumer instance to a test, as a client would. */
export class WebsocketCommunicator<C extends Consumer = Consumer> extends ClientEnd {
  /** Errors the consumer logged (handler failures, refused messages), oldest first. */
  readonly errors: unknown[];
  readonly #runner: ConsumerRunner;
  #connected = false;

  constructor(consumer: ConsumerClass<C>, options: CommunicatorOptions = {}) {
    const errors: unknown[] = [];
    super(() => errors.at(-1)); // a close the test did not expect cites the last logged error
    this.errors = errors;
    const { path = "/", headers, layer, logger, ...scope } = options;
    this.#runner = new ConsumerRunner(
      consumer,
      createScope(path, { ...scope, headers: new Headers(headers) }),
      {
        layer: layer ?? getChannelLayer(),
        logger: this.#recordingLogger(logger),
      },
    );
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
    this.#runner.open(this.peer);
    return { accepted: true, subprotocol: decision.subprotocol, status: 101, code: null };
  }

  /** Sends a text or binary frame to the consumer, as the client. */
  override async sendTo(frame: Frame): Promise<void> {
    if (!this.#connected)
      throw new CommunicatorError("NOT_CONNECTED", "sendTo() before an accepted connect()");
    this.assertOpen();
    this.#runner.receive(frame.text ?? frame.bytes);
  }

  /** Closes the connection as the client would, and waits for `disconnect()` to finish. */
  async disconnect(code = 1000, timeoutMs = 1000): Promise<void> {
    this.#runner.closed(code);
    await within(this.#runner.finished, timeoutMs, "end of disconnect()");
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
