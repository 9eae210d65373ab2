/** What a consumer sends and receives, and the options of its `accept()` and `close()`. */
import { frameBytes } from "../security/limits.ts";

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

/** The most a close frame's reason may hold, in UTF-8 bytes (125 minus the 2-byte code). */
const MAX_REASON_BYTES = 123;

/** Close codes a server may put in a close frame (RFC 6455 7.4; 1004-1006 and 1015 are reserved). */
function isSendableCloseCode(code: number): boolean {
  return (
    (code >= 1000 && code <= 1014 && ![1004, 1005, 1006].includes(code)) || (code >= 3000 && code <= 4999)
  );
}

/** Why a server may not close with these options, or null if it may. */
export function closeProblem(options: CloseOptions): string | null {
  const { code, reason = "" } = options;
  if (code !== undefined && !isSendableCloseCode(code)) {
    return `${code} is not a code a server may send (1000-1003, 1007-1014, 3000-4999)`;
  }
  if (frameBytes(reason, MAX_REASON_BYTES) > MAX_REASON_BYTES) {
    return `the reason is over ${MAX_REASON_BYTES} bytes, the most a close frame holds`;
  }
  return null;
}
