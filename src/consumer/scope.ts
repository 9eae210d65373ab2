/**
 * The scope: everything a consumer may know about the request that opened its connection,
 * copied before the upgrade (on Deno the request cannot be read once it is upgraded).
 */
import type { Context } from "hono";
import { getCookie } from "hono/cookie";
import type { Client } from "../adapters/runtime.ts";
import { parseSubprotocols } from "./upgrade-request.ts";

/** Who is connected, as an auth middleware put it on the context with `c.set("user", ...)`. */
export interface User {
  id?: string;
  name?: string;
  [key: string]: unknown;
}

/** The request a connection came from, frozen at upgrade time. */
export interface Scope {
  type: "websocket";
  /** URL path as requested, e.g. `/chat/lobby/`. */
  path: string;
  /** Path parameters from the file name: `[room].ts` -> `params.room`. Decoded once. */
  params: Record<string, string>;
  /** Query string; repeated keys are kept (`query.getAll("tag")`). */
  query: URLSearchParams;
  headers: Headers;
  cookies: Record<string, string>;
  /** Address and port of the peer, where the runtime tells it. */
  client: Client | null;
  /** Subprotocols the client offered, in its order of preference. */
  subprotocols: string[];
  /** Set by auth middleware (`c.set("user", ...)`); `null` when nobody is logged in. */
  user: User | null;
  /** Every other value middleware put on the context with `c.set(key, value)`. */
  state: Record<string, unknown>;
}

/** Copies what a consumer needs out of a Hono context, before the request is upgraded. */
export function scopeFromContext(c: Context, client: Client | null): Scope {
  const url = new URL(c.req.url);
  // A query of its own: `url.searchParams` would keep the whole URL alive for the connection's life.
  const query = url.search === "" ? new URLSearchParams() : new URLSearchParams(url.search);
  // The layer is the framework's, not request state; everything else middleware set is.
  const { user = null, layer: _layer, ...state } = c.var as Record<string, unknown>;
  return {
    type: "websocket",
    path: url.pathname,
    params: c.req.param() as Record<string, string>,
    query,
    headers: new Headers(c.req.raw.headers),
    cookies: getCookie(c),
    client,
    subprotocols: parseSubprotocols(c.req.header("sec-websocket-protocol")),
    user: (user as User | null) ?? null,
    state,
  };
}

/** A scope for `path` with nothing else known: the start of a test communicator's scope. */
export function createScope(path: string, overrides: Partial<Omit<Scope, "type">> = {}): Scope {
  const url = new URL(path, "http://localhost");
  return {
    type: "websocket",
    path: url.pathname,
    params: {},
    query: url.searchParams,
    headers: new Headers(),
    cookies: {},
    client: null,
    subprotocols: [],
    user: null,
    state: {},
    ...overrides,
  };
}
