/**
 * Token authentication (Channels' `AuthMiddlewareStack`, with signed tokens instead of Django
 * sessions). `tokenAuth()` reads a JWT signed with SECRET_KEY from the `Authorization: Bearer`
 * header, a `token` query parameter (browsers cannot set headers on a WebSocket) or the `session`
 * cookie, and puts the user on the context: `c.var.user` in views, `this.scope.user` in consumers.
 * No token: the request goes on anonymous (`user` null). A tampered or expired header or query
 * token: 401, before any view or consumer code runs. A bad session cookie is cleared and the
 * request goes on anonymous.
 */
import type { MiddlewareHandler } from "hono";
import { deleteCookie, getCookie } from "hono/cookie";
import { sign, verify } from "hono/jwt";
import type { User } from "../consumer/scope.ts";

/** Options of `tokenAuth`. */
export interface TokenAuthOptions {
  /** The HS256 key; from SECRET_KEY (`loadSettings().secretKey`). */
  secret: string;
  /** Cookie holding the token. Default `session`. */
  cookie?: string;
}

/** Signs a token for `user`, valid for `ttlSeconds` (default one hour). */
export async function issueToken(
  user: { id: string; name: string },
  secret: string,
  ttlSeconds = 3600,
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return sign({ sub: user.id, name: user.name, iat: now, exp: now + ttlSeconds }, secret, "HS256");
}

/** The user a token names, or null if it is tampered, expired or malformed. */
export async function verifyToken(token: string, secret: string): Promise<User | null> {
  try {
    const payload = await verify(token, secret, "HS256");
    if (typeof payload.sub !== "string") return null;
    return { id: payload.sub, name: typeof payload.name === "string" ? payload.name : payload.sub };
  } catch {
    return null;
  }
}

/** Middleware that fills `user` from a signed token, refusing bad tokens with 401. */
export function tokenAuth(options: TokenAuthOptions): MiddlewareHandler {
  const cookie = options.cookie ?? "session";
  return async (c, next) => {
    const explicit =
      /^Bearer\s+(\S+)$/i.exec(c.req.header("authorization") ?? "")?.[1] ?? c.req.query("token");
    if (explicit !== undefined) {
      const user = await verifyToken(explicit, options.secret);
      if (!user) return c.json({ error: "INVALID_TOKEN", message: "The token is invalid or expired." }, 401);
      c.set("user", user);
    } else {
      // A cookie is sent by the browser on its own: a stale one (expired, or signed with a key
      // since rotated) means "logged out", not "refuse everything".
      const session = getCookie(c, cookie);
      const user = session === undefined ? null : await verifyToken(session, options.secret);
      if (user) c.set("user", user);
      else if (session !== undefined) deleteCookie(c, cookie, { path: "/" });
    }
    await next();
  };
}
