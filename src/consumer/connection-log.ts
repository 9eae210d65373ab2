/**
 * The log lines of one connection, each naming its consumer and path so it can be traced to both;
 * and the one line of an upgrade refused before any connection existed.
 */
import type { Context, MiddlewareHandler } from "hono";
import type { Logger } from "../log.ts";
import type { Scope } from "./scope.ts";

/** Why an upgrade got an HTTP answer instead of a socket. */
export type UpgradeRefusal = "origin" | "auth" | "refused" | "limit" | "handshake" | "no route" | "error";

// Requests whose refusal is already logged, so the catch-all below does not log them twice.
const reported = new WeakSet<Request>();

/**
 * Logs a refused upgrade at info: the client's doing (or a limit), not a server fault. The path
 * only: a query string may carry a token. `details` adds what the reason alone does not say.
 */
export function logRefusedUpgrade(
  logger: Logger,
  c: Context,
  reason: UpgradeRefusal,
  status: number,
  details: Record<string, string | number> = {},
): void {
  reported.add(c.req.raw);
  logger.info("websocket refused", { path: c.req.path, reason, status, ...details });
}

/**
 * Upgrade middleware, first in the chain: an upgrade answered with an error status that nothing
 * logged yet (a 401 from auth middleware, a 404 for a path without a consumer) gets its line.
 */
export function logUnreportedRefusals(logger: Logger): MiddlewareHandler {
  return async (c, next) => {
    await next();
    const { status } = c.res;
    if (status < 400 || reported.has(c.req.raw)) return;
    logRefusedUpgrade(logger, c, reasonFor(status), status);
  };
}

function reasonFor(status: number): UpgradeRefusal {
  if (status === 400) return "handshake";
  if (status === 401) return "auth";
  if (status === 404) return "no route";
  if (status === 503) return "limit";
  if (status >= 500) return "error";
  return "refused";
}

/** What a connection reports about itself, and at which level. */
export class ConnectionLog {
  readonly #logger: Logger;
  readonly #consumer: string;
  readonly #scope: Scope;
  #openedAt: number | null = null;

  constructor(logger: Logger, consumer: string, scope: Scope) {
    this.#logger = logger;
    this.#consumer = consumer;
    this.#scope = scope;
  }

  /** The socket is open (the consumer accepted it): starts the clock `ended()` reads. */
  opened(): void {
    this.#openedAt = performance.now();
    this.#logger.info("websocket open", this.#where());
  }

  /** The connection is over: how and after how long, if it ever opened (a refusal has its own line). */
  ended(code: number): void {
    if (this.#openedAt === null) return;
    const durationMs = Math.round(performance.now() - this.#openedAt);
    // Written out, not spread: on Node a literal starting with a spread costs microseconds, every close.
    this.#logger.info("websocket closed", {
      consumer: this.#consumer,
      path: this.#scope.path,
      code,
      durationMs,
    });
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
