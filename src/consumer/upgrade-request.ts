/**
 * What an upgrade request says before anything runs: whether it asks for a WebSocket, whether it
 * is a well-formed handshake, and which subprotocols it offers.
 */
import type { Context } from "hono";

// RFC 6455 4.1: the key is the base64 of 16 bytes, so 22 characters and "==". A repeated header
// reaches us joined with ", " (fetch Headers), so two keys fail this as well.
const WEBSOCKET_KEY = /^[A-Za-z0-9+/]{22}==$/;

/**
 * Whether an upgrade request is a well-formed RFC 6455 handshake: one valid key, version 13, and
 * `Connection` naming `Upgrade` (Deno and Node fail the upgrade without it; Bun lets it through).
 */
export function isValidHandshake(c: Context): boolean {
  return (
    WEBSOCKET_KEY.test(c.req.header("sec-websocket-key") ?? "") &&
    c.req.header("sec-websocket-version") === "13" &&
    CONNECTION_UPGRADE.test(c.req.header("connection") ?? "")
  );
}

// One of the comma-separated tokens of `Connection` is `upgrade`, whatever its case and spacing.
const CONNECTION_UPGRADE = /(?:^|,)\s*upgrade\s*(?:,|$)/i;

/** Whether a request asks to become a WebSocket. */
export function isWebSocketUpgrade(c: Context): boolean {
  return c.req.header("upgrade")?.toLowerCase() === "websocket";
}

/** Parses `Sec-WebSocket-Protocol: a, b` into `["a", "b"]`. */
export function parseSubprotocols(header: string | null | undefined): string[] {
  if (!header) return [];
  return header
    .split(",")
    .map((protocol) => protocol.trim())
    .filter((protocol) => protocol !== "");
}
