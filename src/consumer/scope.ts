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
  readonly type: "websocket";
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
  const headers = new Headers(c.req.raw.headers);
  // The layer is the framework's, not request state; everything else middleware set is.
  const { user = null, layer: _layer, ...state } = c.var as Record<string, unknown>;
  const params = c.req.param() as Record<string, string>;
  const offered = headers.get("sec-websocket-protocol");
  return new RequestScope({
    path: url.pathname,
    headers,
    client,
    user: (user as User | null) ?? null,
    params: hasKeys(params) ? params : null,
    // Its own string: `url.searchParams` would keep the whole URL alive for the connection's life.
    query: url.search,
    cookies: headers.has("cookie") ? getCookie(c) : null,
    subprotocols: offered ? parseSubprotocols(offered) : null,
    state: hasKeys(state) ? state : null,
  });
}

/** A scope for `path` with nothing else known: the start of a test communicator's scope. */
export function createScope(path: string, overrides: Partial<Omit<Scope, "type">> = {}): Scope {
  const url = new URL(path, "http://localhost");
  return new RequestScope({
    path: overrides.path ?? url.pathname,
    headers: overrides.headers ?? new Headers(),
    client: overrides.client ?? null,
    user: overrides.user ?? null,
    params: overrides.params ?? null,
    query: overrides.query ?? url.search,
    cookies: overrides.cookies ?? null,
    subprotocols: overrides.subprotocols ?? null,
    state: overrides.state ?? null,
  });
}

/** What a scope is made of; `null` for a part the request did not have (built empty on first read). */
interface ScopeParts {
  path: string;
  headers: Headers;
  client: Client | null;
  user: User | null;
  params: Record<string, string> | null;
  /** The query string, or its parsed form. */
  query: string | URLSearchParams;
  cookies: Record<string, string> | null;
  subprotocols: string[] | null;
  state: Record<string, unknown> | null;
}

const INSPECT = Symbol.for("nodejs.util.inspect.custom");

/**
 * A connection's scope. What most connections never read, or read empty (the path parameters,
 * query, cookies, state and subprotocols) is kept as the request had it and built on first read:
 * each would otherwise cost every idle connection an object for its whole life. Those fields are
 * accessors, so a spread (`{ ...scope }`) does not copy them: `toJSON()` gives a plain copy of all
 * fields (and is what `JSON.stringify` and console output use). Tests get the same class.
 */
class RequestScope implements Scope {
  path: string;
  headers: Headers;
  client: Client | null;
  user: User | null;
  #params: Record<string, string> | null;
  #query: string | URLSearchParams;
  #cookies: Record<string, string> | null;
  #subprotocols: string[] | null;
  #state: Record<string, unknown> | null;

  constructor(parts: ScopeParts) {
    this.path = parts.path;
    this.headers = parts.headers;
    this.client = parts.client;
    this.user = parts.user;
    this.#params = parts.params;
    this.#query = parts.query;
    this.#cookies = parts.cookies;
    this.#subprotocols = parts.subprotocols;
    this.#state = parts.state;
  }

  get type(): "websocket" {
    return "websocket";
  }

  get params(): Record<string, string> {
    this.#params ??= {};
    return this.#params;
  }

  set params(params: Record<string, string>) {
    this.#params = params;
  }

  get query(): URLSearchParams {
    if (typeof this.#query === "string") this.#query = new URLSearchParams(this.#query);
    return this.#query;
  }

  set query(query: URLSearchParams) {
    this.#query = query;
  }

  get cookies(): Record<string, string> {
    this.#cookies ??= {};
    return this.#cookies;
  }

  set cookies(cookies: Record<string, string>) {
    this.#cookies = cookies;
  }

  get subprotocols(): string[] {
    this.#subprotocols ??= [];
    return this.#subprotocols;
  }

  set subprotocols(subprotocols: string[]) {
    this.#subprotocols = subprotocols;
  }

  get state(): Record<string, unknown> {
    this.#state ??= {};
    return this.#state;
  }

  set state(state: Record<string, unknown>) {
    this.#state = state;
  }

  /** Every field, as a plain object (a shallow copy). */
  toJSON(): Scope {
    const { type, path, params, query, headers, cookies, client, subprotocols, user, state } = this;
    return { type, path, params, query, headers, cookies, client, subprotocols, user, state };
  }

  [INSPECT](): Scope {
    return this.toJSON();
  }
}

function hasKeys(object: object): boolean {
  for (const _ in object) return true;
  return false;
}
