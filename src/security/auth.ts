/**
 * Token authentication (Channels' `AuthMiddlewareStack`, with signed tokens instead of Django
 * sessions). `tokenAuth()` reads a JWT signed with SECRET_KEY from the `Authorization: Bearer`
 * header, a `token` query parameter (browsers cannot set headers on a WebSocket) or the `session`
 * cookie, and puts the user on the context: `c.var.user` in views, `this.scope.user` in consumers.
 * No token: the request goes on anonymous (`user` null). A tampered, expired or endless (no `exp`)
 * header or query token: 401 `INVALID_TOKEN`. A malformed or conflicting credential (an
 * Authorization header that is not one `Bearer <token>`, a query token that is not a token, two
 * different tokens): 401 `INVALID_CREDENTIALS`. Both before any view or consumer code runs, and
 * whatever the cookie says. A bad session cookie is cleared and the request goes on anonymous.
 */
import type { Context, MiddlewareHandler } from "hono";
import { deleteCookie, getCookie } from "hono/cookie";
import { sign, verify } from "hono/jwt";
import type { User } from "../consumer/scope.ts";

/** Options of `tokenAuth`. */
export interface TokenAuthOptions {
  /** The HS256 key; from SECRET_KEY (`loadSettings().secretKey`). */
  secret: string;
  /** Cookie holding the token. Default `session`. */
  cookie?: string;
  /**
   * Header holding the token. Default `authorization`, read as `Bearer <token>`; any other header
   * (`token`, as some clients send it) holds the token alone, with or without `Bearer `.
   */
  header?: string;
  /** Query parameter holding the token (browsers cannot set headers on a WebSocket). Default `token`; false for none. */
  query?: string | false;
  /**
   * Accept correctly signed tokens without an `exp` claim, which never expire. Default false: such
   * a token, once leaked, works until SECRET_KEY changes. Turn on only for tokens you sign yourself
   * and revoke by rotating the key.
   */
  allowNoExpiry?: boolean;
}

/** Options of `verifyToken`. */
export interface VerifyOptions {
  /** Accept a token without `exp` (see `TokenAuthOptions.allowNoExpiry`). Default false. */
  allowNoExpiry?: boolean;
}

/** The `error` of a 401 from `tokenAuth`: a token that fails verification, or a malformed credential. */
export type AuthErrorCode = "INVALID_TOKEN" | "INVALID_CREDENTIALS";

// RFC 6750's b64token: what a bearer token may contain. Anything else (a space, a comma from two
// joined headers) is not a token we failed to verify but a request we cannot read.
const TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i;

/** Signs a token for `user`, valid for `ttlSeconds` (default one hour). */
export async function issueToken(
  user: { id: string; name: string },
  secret: string,
  ttlSeconds = 3600,
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return sign({ sub: user.id, name: user.name, iat: now, exp: now + ttlSeconds }, secret, "HS256");
}

/** The user a token names, or null if it is tampered, expired, without `exp` (unless allowed) or malformed. */
export async function verifyToken(
  token: string,
  secret: string,
  options: VerifyOptions = {},
): Promise<User | null> {
  try {
    const payload = await verify(token, secret, "HS256");
    if (typeof payload.sub !== "string") return null;
    // `verify` checks `exp` only when present: without this, a signed token would be valid forever.
    const exp = payload.exp as unknown;
    if (exp === undefined ? !options.allowNoExpiry : typeof exp !== "number" || !Number.isFinite(exp)) {
      return null;
    }
    return { id: payload.sub, name: typeof payload.name === "string" ? payload.name : payload.sub };
  } catch {
    return null;
  }
}

/**
 * The token the request names explicitly (header or query), `null` for none, or `"malformed"` when
 * it names one we cannot read or two that differ.
 */
function explicitToken(
  header: string | undefined,
  queries: string[],
  bearerOnly: boolean,
): string | null | "malformed" {
  const tokens = new Set<string>();
  if (header !== undefined) {
    const bearer =
      BEARER.exec(header)?.[1] ?? (bearerOnly || !TOKEN.test(header.trim()) ? undefined : header.trim());
    if (bearer === undefined) return "malformed";
    tokens.add(bearer);
  }
  for (const query of queries) {
    if (!TOKEN.test(query)) return "malformed";
    tokens.add(query);
  }
  if (tokens.size > 1) return "malformed";
  return tokens.values().next().value ?? null;
}

function refuse(c: Context, error: AuthErrorCode, message: string): Response {
  return c.json({ error, message }, 401);
}

/**
 * Middleware that fills `user` from a signed token, refusing bad tokens and malformed or conflicting
 * credentials with 401.
 */
export function tokenAuth(options: TokenAuthOptions): MiddlewareHandler {
  const cookie = options.cookie ?? "session";
  const header = (options.header ?? "authorization").toLowerCase();
  const query = options.query ?? "token";
  const bearerOnly = header === "authorization";
  const how = `${bearerOnly ? "Authorization: Bearer <token>" : `${header}: <token>`}${query ? `, or ?${query}=<token> (the same one if both)` : ""}`;
  const verifyOptions: VerifyOptions = { allowNoExpiry: options.allowNoExpiry ?? false };
  return async (c, next) => {
    // A credential we cannot read must not fall back to the cookie or to anonymous: the client
    // meant to be someone, and guessing who (or nobody) is how it ends up as another user.
    const queries = query ? (c.req.queries(query) ?? []) : [];
    const explicit = explicitToken(c.req.header(header), queries, bearerOnly);
    if (explicit === "malformed") return refuse(c, "INVALID_CREDENTIALS", `Send one token: ${how}.`);
    if (explicit !== null) {
      const user = await verifyToken(explicit, options.secret, verifyOptions);
      if (!user) return refuse(c, "INVALID_TOKEN", "The token is invalid or expired.");
      c.set("user", user);
    } else {
      // A cookie is sent by the browser on its own: a stale one (expired, or signed with a key
      // since rotated) means "logged out", not "refuse everything".
      const session = getCookie(c, cookie);
      const user = session === undefined ? null : await verifyToken(session, options.secret, verifyOptions);
      if (user) c.set("user", user);
      else if (session !== undefined) deleteCookie(c, cookie, { path: "/" });
    }
    await next();
  };
}
