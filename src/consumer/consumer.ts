/**
 * `Consumer`: one instance per WebSocket connection, the class users extend in `consumers/`.
 * It decides in `connect()`, handles frames in `receive()`, handles layer messages in methods named
 * after their type (`chat.message` -> `chatMessage`), and cleans up in `disconnect()`.
 * The instance never touches a socket or the layer's bookkeeping: it talks to its `Connection`,
 * which the runner provides.
 */
import { ConsumerStateError } from "../errors.ts";
import type { ChannelLayer, Message, MessageMap, MessageOf } from "../layers/layer.ts";
import { registerFrameworkClass } from "./dispatch.ts";
import type { AcceptOptions, CloseOptions, Frame } from "./frames.ts";
import type { Scope } from "./scope.ts";

/** What a consumer can ask of its connection; implemented by the runner. */
export interface Connection {
  accept(options: AcceptOptions): void;
  send(frame: Frame): void;
  close(options: CloseOptions): void;
  readonly channelName: string;
  readonly channelLayer: ChannelLayer;
  groupAdd(group: string): Promise<void>;
  groupDiscard(group: string): Promise<void>;
}

// Set by the Consumer class itself, the one place that can reach its private field. Functions, not
// private methods: a Proxy a constructor returned has no private members, only this map's entry.
let bind: (consumer: object, connection: Connection) => void;
let connectionOf: (consumer: object) => Connection;
/** Connections of consumers without the field: a constructor that returned another object (a Proxy). */
const unbranded = new WeakMap<object, Connection>();

/** @internal Links a consumer to the connection it speaks through; the runner calls it once. */
export function bindConnection(consumer: Consumer, connection: Connection): void {
  bind(consumer, connection);
}

/** A consumer's groups until its class declares some: shared, so frozen. */
const UNDECLARED_GROUPS: readonly string[] = Object.freeze([]);

/**
 * Base class of WebSocket consumers. `Events` maps the message types this consumer sends to
 * groups, so `groupSend` is type-checked.
 * @example
 * export default class Echo extends Consumer {
 *   override async receive(frame: Frame) { await this.send(frame); }
 * }
 */
export class Consumer<Events extends MessageMap = MessageMap> {
  /**
   * Message types this class forwards to its client as they are, as JSON text, without a handler:
   * `static override relays = ["chat.message"]`. A relayed message skips the queue (it can overtake
   * frames not handled yet) and, on Bun, reaches a whole group in one native publish.
   */
  static relays: readonly string[] = [];

  /** The request this connection came from. */
  readonly scope: Scope;
  /** Groups joined before `connect()` and left before `disconnect()`. */
  groups: readonly string[] = UNDECLARED_GROUPS;
  /** What this consumer speaks through; private, so no field of a subclass can clash with it. */
  #connection: Connection | null = null;

  static {
    bind = (consumer, connection) => {
      if (#connection in consumer) consumer.#connection = connection;
      else unbranded.set(consumer, connection);
    };
    connectionOf = (consumer) => {
      const connection = #connection in consumer ? consumer.#connection : unbranded.get(consumer);
      if (!connection) {
        throw new ConsumerStateError(
          `${consumer.constructor.name} is not connected. Consumers are created by the server or a WebsocketCommunicator, not with new.`,
        );
      }
      return connection;
    };
  }

  constructor(scope: Scope) {
    this.scope = scope;
  }

  /** Called first. Accept with `accept()` or refuse with `close()`; the default accepts. */
  connect(): void | Promise<void> {
    return this.accept();
  }

  /** Called for each frame from the client, one at a time, in order. */
  receive(_frame: Frame): void | Promise<void> {}

  /** Called exactly once when the connection ends, with its close code, after its groups are left. */
  disconnect(_code: number): void | Promise<void> {}

  /** Completes the handshake. Only valid before the handshake is decided. */
  async accept(options: AcceptOptions = {}): Promise<void> {
    connectionOf(this).accept(options);
  }

  /**
   * Sends a text or binary frame to the client. The write happens before this returns; the
   * promise is settled already (a handler that sends to a thousand members allocates none).
   */
  send(frame: Frame): Promise<void> {
    try {
      connectionOf(this).send(frame);
      return SENT;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Closes the connection. Before `accept()` this refuses the handshake: HTTP 403, or for codes
   * 4400-4499 the matching HTTP status (`close({ code: 4401 })` answers 401).
   */
  async close(options: CloseOptions = {}): Promise<void> {
    connectionOf(this).close(options);
  }

  /** This connection's unique channel: other code can `send()` to it through the layer. */
  get channelName(): string {
    return connectionOf(this).channelName;
  }

  /**
   * The layer this consumer is attached to. Untyped on purpose: a typed layer here would make
   * `Consumer<ChatEvents>` stop being a `Consumer`. `groupSend` is the typed path.
   */
  get channelLayer(): ChannelLayer {
    return connectionOf(this).channelLayer;
  }

  /** Joins a group; it is left automatically when the connection ends. */
  async groupAdd(group: string): Promise<void> {
    await connectionOf(this).groupAdd(group);
  }

  /** Leaves a group. */
  async groupDiscard(group: string): Promise<void> {
    await connectionOf(this).groupDiscard(group);
  }

  /** Sends a message to every member of a group; each runs the handler named after its `type`. */
  groupSend(group: string, message: MessageOf<Events>): Promise<void> {
    try {
      return this.channelLayer.groupSend(group, message as Message);
    } catch (error) {
      return Promise.reject(error); // no connection yet: a rejection, as from any other layer call
    }
  }
}
registerFrameworkClass(Consumer);

/**
 * What `send()` returns: one promise, already resolved, shared by every send. A handler that
 * returns it (`return this.sendJson(event)`) is known to be done: its next message runs at once.
 */
export const SENT: Promise<void> = Promise.resolve();

/** A class whose instances are consumers: what a file in `consumers/` default-exports. */
export type ConsumerClass<C extends Consumer = Consumer> = new (scope: Scope) => C;

/** Whether a value is a class extending `Consumer`. */
export function isConsumerClass(value: unknown): value is ConsumerClass {
  return typeof value === "function" && value.prototype instanceof Consumer;
}
