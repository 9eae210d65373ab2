/** The one thing a runtime adapter gives the consumer runner: an open socket it can write to. */
export interface Peer {
  /** Sends a text (string) or binary (bytes) frame. */
  send(data: string | Uint8Array): void;
  /** Starts the closing handshake. */
  close(code: number, reason: string): void;
  /** Bytes queued for the client but not yet written to the network. */
  readonly bufferedAmount: number;
  /** Drops the connection without a closing handshake (a client that stopped reading never completes one). */
  terminate?(): void;
}

/** A frame from or to the client: text or bytes, never both. */
export type Frame = { text: string; bytes?: undefined } | { bytes: Uint8Array; text?: undefined };

/** Options of `accept()`. */
export interface AcceptOptions {
  /** The subprotocol to echo; must be one the client offered. */
  subprotocol?: string;
  /** Extra headers on the handshake response. */
  headers?: Record<string, string>;
}

/** Options of `close()`. */
export interface CloseOptions {
  /** Close code: 1000 by default; 3000-4999 for your own meanings. */
  code?: number;
  reason?: string;
}

/** Standard close codes the framework itself sends. */
export const CloseCode = {
  normal: 1000,
  goingAway: 1001,
  unsupportedData: 1003,
  abnormal: 1006,
  invalidPayload: 1007,
  policyViolation: 1008,
  messageTooBig: 1009,
  internalError: 1011,
  tryAgainLater: 1013,
} as const;
