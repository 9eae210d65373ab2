/**
 * `Consumer`: one instance per WebSocket connection, the class users extend in `consumers/`.
 * It decides in `connect()`, handles frames in `receive()`, cleans up in `disconnect()`.
 * The instance never touches a socket: it talks to its `Connection`, which the runner provides.
 */
import { ConsumerStateError } from "../errors.ts";
import type { AcceptOptions, CloseOptions, Frame } from "./peer.ts";
import type { Scope } from "./scope.ts";

/** What a consumer can ask of its connection; implemented by the runner. */
export interface Connection {
  accept(options: AcceptOptions): void;
  send(frame: Frame): void;
  close(options: CloseOptions): void;
}

const connections = new WeakMap<Consumer, Connection>();

/** @internal Links a consumer to the connection it speaks through; the runner calls it once. */
export function bindConnection(consumer: Consumer, connection: Connection): void {
  connections.set(consumer, connection);
}

function connectionOf(consumer: Consumer): Connection {
  const connection = connections.get(consumer);
  if (!connection) {
    throw new ConsumerStateError(
      `${consumer.constructor.name} is not connected. Consumers are created by the server or a WebsocketCommunicator, not with new.`,
    );
  }
  return connection;
}

/**
 * Base class of WebSocket consumers.
 * @example
 * export default class Echo extends Consumer {
 *   override async receive(frame: Frame) { await this.send(frame); }
 * }
 */
export class Consumer {
  /** The request this connection came from. */
  readonly scope: Scope;

  constructor(scope: Scope) {
    this.scope = scope;
  }

  /** Called first. Accept with `accept()` or refuse with `close()`; the default accepts. */
  connect(): void | Promise<void> {
    return this.accept();
  }

  /** Called for each frame from the client, one at a time, in order. */
  receive(_frame: Frame): void | Promise<void> {}

  /** Called exactly once when the connection ends, with its close code. */
  disconnect(_code: number): void | Promise<void> {}

  /** Completes the handshake. Only valid in or before the end of `connect()`. */
  async accept(options: AcceptOptions = {}): Promise<void> {
    connectionOf(this).accept(options);
  }

  /** Sends a text or binary frame to the client. */
  async send(frame: Frame): Promise<void> {
    connectionOf(this).send(frame);
  }

  /** Closes the connection; before `accept()` this refuses the handshake (HTTP 403). */
  async close(options: CloseOptions = {}): Promise<void> {
    connectionOf(this).close(options);
  }
}

/** A class whose instances are consumers: what a file in `consumers/` default-exports. */
export type ConsumerClass<C extends Consumer = Consumer> = new (scope: Scope) => C;

/** Whether a value is a class extending `Consumer`. */
export function isConsumerClass(value: unknown): value is ConsumerClass {
  return typeof value === "function" && value.prototype instanceof Consumer;
}
