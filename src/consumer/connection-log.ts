/** The log lines of one connection, each naming its consumer and path so it can be traced to both. */
import type { Logger } from "../log.ts";
import type { Scope } from "./scope.ts";

/** What a connection reports about itself, and at which level. */
export class ConnectionLog {
  readonly #logger: Logger;
  readonly #consumer: string;
  readonly #scope: Scope;

  constructor(logger: Logger, consumer: string, scope: Scope) {
    this.#logger = logger;
    this.#consumer = consumer;
    this.#scope = scope;
  }

  /** A consumer method (or the runtime on its behalf) threw. */
  failed(method: string, error: unknown, type?: string): void {
    this.#logger.error(`${this.#consumer}.${method}() failed at ${this.#scope.path}`, {
      ...this.#where(),
      ...(type === undefined ? {} : { type }),
      error,
    });
  }

  /** A layer message no handler may take: the sender's mistake, so the connection stays. */
  refusedMessage(type: string, error: Error): void {
    this.#logger.error(`${this.#consumer} refused a message at ${this.#scope.path}: ${error.message}`, {
      ...this.#where(),
      type,
      error,
    });
  }

  /** The channel's receive() loop failed: no more layer messages reach this connection. */
  receiveFailed(channel: string, error: unknown): void {
    this.#logger.error(
      `${this.#consumer}: receive() on ${channel} failed; its messages are no longer delivered`,
      {
        ...this.#where(),
        channel,
        error,
      },
    );
  }

  /** The client broke a limit: a warning, as it is the client's doing. */
  refusedClient(code: number, reason: string): void {
    this.#logger.warn(`${this.#consumer} at ${this.#scope.path}: ${reason}; closing with ${code}`, {
      ...this.#where(),
      client: this.#scope.client,
    });
  }

  /** `connect()` returned without accepting or closing. */
  undecided(): void {
    this.#logger.warn(
      `${this.#consumer} returned from connect() without accept() or close(); refusing the connection`,
      { path: this.#scope.path },
    );
  }

  /** The `drop` policy started skipping frames for a client that does not read. */
  droppingFrames(): void {
    this.#logger.warn(`${this.#consumer} at ${this.#scope.path}: client is not reading; dropping frames`);
  }

  /** The consumer sent after the connection closed. */
  droppedSend(): void {
    this.#logger.debug(`${this.#consumer}.send() after close; frame dropped`, { path: this.#scope.path });
  }

  #where(): { consumer: string; path: string } {
    return { consumer: this.#consumer, path: this.#scope.path };
  }
}
