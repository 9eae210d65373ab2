/**
 * How a handshake ends. Before accept() there is no socket to carry a close code, so a refusal is
 * an HTTP status; the close code travels alongside for the test communicator, as in Channels.
 */
import { ConsumerStateError } from "../errors.ts";
import { type AcceptOptions, CloseCode } from "./frames.ts";
import type { Scope } from "./scope.ts";

/** How the handshake ends: upgrade with these settings, or answer with an HTTP status. */
export type HandshakeDecision =
  | { accepted: true; subprotocol: string | null; headers: Record<string, string> }
  /** `code`: the close code the refusal stands for (what `close()` was given, 1011 for a failure). */
  | { accepted: false; status: number; code: number };

/** A refused handshake. */
export type Refusal = Extract<HandshakeDecision, { accepted: false }>;

/**
 * The refusal for `close({ code })` before accept, as Channels maps it: 4400-4499 become that
 * HTTP status (4401 -> 401, 4403 -> 403), anything else 403; no code means 1000.
 */
export function closedBeforeAccept(code: number = CloseCode.normal): Refusal {
  return { accepted: false, status: code >= 4400 && code <= 4499 ? code - 4000 : 403, code };
}

/** The refusal when `connect()` threw (or broke the rules): HTTP 500, close code 1011. */
export function failedConnect(): Refusal {
  return { accepted: false, status: 500, code: CloseCode.internalError };
}

/** The refusal when the server shuts down while `connect()` runs: 503, with the shutdown's code. */
export function shutdownDuringConnect(code: number): Refusal {
  return { accepted: false, status: 503, code };
}

/** One connection's handshake: decided once, by `accept()` or a refusal. */
export class Handshake {
  /** Resolves with the decision. */
  readonly decided: Promise<HandshakeDecision>;
  #resolve!: (decision: HandshakeDecision) => void;

  constructor() {
    this.decided = new Promise((resolve) => {
      this.#resolve = resolve;
    });
  }

  /** Accepts; `consumer` and `scope` are for refusing a subprotocol the client did not offer. */
  accept(options: AcceptOptions, consumer: string, scope: Pick<Scope, "subprotocols">): void {
    const subprotocol = options.subprotocol ?? null;
    // The offered list is read only when a subprotocol was chosen: most scopes never build it.
    if (subprotocol !== null && !scope.subprotocols.includes(subprotocol)) {
      throw new ConsumerStateError(
        `${consumer}.accept() chose subprotocol "${subprotocol}", which the client did not offer ` +
          `(offered: ${JSON.stringify(scope.subprotocols)})`,
      );
    }
    this.#resolve({ accepted: true, subprotocol, headers: options.headers ?? {} });
  }

  /** Refuses. */
  refuse(refusal: Refusal): void {
    this.#resolve(refusal);
  }
}
