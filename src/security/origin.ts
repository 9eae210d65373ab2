/**
 * Origin checks for WebSocket upgrades (Channels' `AllowedHostsOriginValidator`): a browser page
 * from another site must not open a socket with the user's cookies. A refused upgrade gets 403
 * before any consumer code runs. The same rule drives CORS for HTTP views.
 */
import type { MiddlewareHandler } from "hono";

/** Decides whether a request's `Origin` may talk to this server. */
export type OriginPolicy = (origin: string | undefined, host: string | undefined) => boolean;

const LOCAL_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

/**
 * Builds the policy. `allowed` entries: an exact origin (`https://app.example.com`), a subdomain
 * wildcard (`https://*.example.com` or `*.example.com`, any scheme), or `*` for any origin.
 * `null` means the default: the server's own host, plus localhost on any port outside production.
 * A request without `Origin` (not a browser) is allowed: the check protects browsers' cookies.
 */
export function createOriginPolicy(allowed: string[] | null, production: boolean): OriginPolicy {
  const rules = (allowed ?? []).map(parseRule);
  return (origin, host) => {
    if (origin === undefined) return true;
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      return false; // "null" (sandboxed frames, file://) and garbage
    }
    if (host !== undefined && url.host === host.toLowerCase()) return true;
    if (allowed === null) return !production && LOCAL_HOSTS.has(url.hostname);
    return rules.some((rule) => rule(url));
  };
}

function parseRule(entry: string): (url: URL) => boolean {
  const rule = entry.trim().toLowerCase();
  if (rule === "*") return () => true;
  const wildcard = /^(?:([a-z][a-z0-9+.-]*):\/\/)?\*\.([a-z0-9-]+(?:\.[a-z0-9-]+)*)(:\d+)?$/.exec(rule);
  if (wildcard) {
    const [, scheme, domain, port] = wildcard;
    // Without a port in the rule, any port of a subdomain matches.
    return (url) =>
      (scheme === undefined || url.protocol === `${scheme}:`) &&
      url.hostname.endsWith(`.${domain}`) &&
      (port === undefined || url.port === port.slice(1));
  }
  const url = new URL(rule);
  const bare = url.pathname === "/" && !url.search && !url.hash && !url.username;
  if (!/^https?:$/.test(url.protocol) || url.hostname.includes("*") || !bare) {
    throw new Error(`not an origin: ${entry}`);
  }
  const exact = url.origin;
  return (candidate) => candidate.origin === exact;
}

/** Whether `entry` is a valid ALLOWED_ORIGINS entry (for settings validation). */
export function isValidOriginRule(entry: string): boolean {
  try {
    parseRule(entry);
    return true;
  } catch {
    return false;
  }
}

/** Refuses an upgrade from an origin the policy does not allow, with 403. */
export function originCheck(policy: OriginPolicy): MiddlewareHandler {
  return async (c, next) => {
    if (!policy(c.req.header("origin"), c.req.header("host"))) {
      return c.text("Origin not allowed", 403);
    }
    await next();
  };
}
