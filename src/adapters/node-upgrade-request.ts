/**
 * What Node's adapter makes of an upgrade request before the app sees it: the headers, the URL (or
 * a 400 for a target or Host that is not one), a light request object with the full WHATWG Request
 * only on demand, and the refusal written straight to the socket.
 */
import type { IncomingMessage } from "node:http";
import { STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";

/**
 * The headers of an upgrade request, from the raw list, as Bun and Deno build theirs and as a view
 * sees them: a repeated name keeps every value (Node's parsed headers keep the first of a repeated
 * Authorization or Host), an empty value is kept, cookies are joined with "; " as Node joins them.
 * Null when Headers refuses one (Node's parser lets through little that it would).
 */
export function upgradeHeaders(raw: string[], cookie: string | undefined): Headers | null {
  const headers = new Headers();
  try {
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const name = raw[i]!;
      if (name.length !== 6 || name.toLowerCase() !== "cookie") headers.append(name, raw[i + 1]!);
    }
    if (cookie !== undefined) headers.set("cookie", cookie);
  } catch {
    return null;
  }
  return headers;
}

// A request target and a Host that need no normalising (as @hono/node-server checks them).
const PLAIN_TARGET = /^\/[!#$&-;=?-[\]_a-z~]*$/;
const DOT_SEGMENT = /\/\.\.?(?:[/?#]|$)/;
const PLAIN_HOST = /^[a-z0-9._-]+(?::(?:[1-5]\d{3,4}|[6-9]\d{3}))?$/;

/** The URL of an upgrade request, or null when its target or Host is not one (answered 400). */
export function upgradeUrl(incoming: IncomingMessage): string | null {
  const target = incoming.url ?? "/";
  const scheme = (incoming.socket as { encrypted?: boolean }).encrypted ? "https" : "http";
  try {
    if (target.startsWith("http://") || target.startsWith("https://")) {
      if (hasBackslashInPath(target)) return null;
      return new URL(target).href;
    }
    if (target[0] !== "/") return null;
    const host = incoming.headers.host ?? "localhost";
    const url = `${scheme}://${host}${target}`;
    if (PLAIN_HOST.test(host) && PLAIN_TARGET.test(target) && !DOT_SEGMENT.test(target)) return url;
    if (hasBackslashInPath(target)) return null;
    const parsed = new URL(url);
    // A Host with a path, a user or anything else URL would quietly move into the URL is refused.
    const bare = (host.includes(":") ? host.replace(/:\d+$/, "") : host).toLowerCase();
    if (parsed.hostname.length !== host.length && parsed.hostname !== bare) return null;
    return parsed.href;
  } catch {
    return null;
  }
}

function hasBackslashInPath(target: string): boolean {
  const backslash = target.indexOf("\\");
  if (backslash === -1) return false;
  const query = target.indexOf("?");
  return query === -1 || backslash < query;
}

/**
 * The request an upgrade hands the app: its URL, method and headers are plain fields, and the
 * rest of Request (its AbortSignal, body, clone()...), which building costs most of a Node
 * handshake's JavaScript, is made only if something asks for it.
 */
export class UpgradeRequest {
  readonly url: string;
  readonly method: string;
  readonly headers: Headers;
  #request: Request | null = null;

  constructor(url: string, method: string, headers: Headers) {
    this.url = url;
    this.method = method;
    this.headers = headers;
  }

  /** The full Request, made once. */
  get full(): Request {
    this.#request ??= new Request(this.url, { method: this.method, headers: this.headers });
    return this.#request;
  }
}
// Everything else of Request, forwarded to the full one; instanceof Request holds.
for (const name of Object.getOwnPropertyNames(Request.prototype)) {
  if (name === "constructor" || name === "url" || name === "method" || name === "headers") continue;
  const member = Object.getOwnPropertyDescriptor(Request.prototype, name)!;
  Object.defineProperty(
    UpgradeRequest.prototype,
    name,
    typeof member.value === "function"
      ? {
          value(this: UpgradeRequest, ...args: unknown[]) {
            return (this.full as unknown as Record<string, (...a: unknown[]) => unknown>)[name]!(...args);
          },
        }
      : {
          get(this: UpgradeRequest) {
            return (this.full as unknown as Record<string, unknown>)[name];
          },
        },
  );
}
Object.setPrototypeOf(UpgradeRequest.prototype, Request.prototype);

// Hop-by-hop and handshake headers a 101 or a refusal must not repeat from the app's response.
const SKIPPED_HEADERS = new Set([
  "connection",
  "content-length",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "sec-websocket-accept",
  "sec-websocket-extensions",
  "sec-websocket-protocol",
]);

export function appendHeaderLines(lines: string[], headers: Headers | undefined): void {
  headers?.forEach((value, name) => {
    if (!SKIPPED_HEADERS.has(name)) lines.push(`${name}: ${value}`);
  });
}

/** Answers an upgrade the app refused with its status and headers (no body), and closes. */
export function refuse(socket: Duplex, status: number, headers?: Headers): void {
  if (socket.destroyed) return;
  const lines = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ""}`,
    "Connection: close",
    "Content-Length: 0",
  ];
  appendHeaderLines(lines, headers);
  socket.end(`${lines.join("\r\n")}\r\n\r\n`);
}
