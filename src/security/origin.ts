/**
 * Origin checks for WebSocket upgrades (Channels' `AllowedHostsOriginValidator`): a browser page
 * from another site must not open a socket with the user's cookies. A refused upgrade gets 403
 * before any consumer code runs. The same rule drives CORS for HTTP views.
 */
import type { Context, MiddlewareHandler } from "hono";

/** Decides whether a request's `Origin` may talk to this server. */
export type OriginPolicy = (origin: string | undefined, host: string | undefined) => boolean;

const LOCAL_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

/**
 * Builds the policy. `allowed` entries: an exact origin (`https://app.example.com`), a subdomain
 * wildcard (`https://*.example.com`, or `*.example.com` for http and https; any port unless the
 * rule names one), or `*` for any origin. When `allowed` is given it is the only rule: scheme, host
 * and port must match an entry, whatever the request's `Host` says. `null` means the default: the
 * server's own host (the request's `Host`), plus localhost on any port outside production.
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
    // `Host` is whatever name the client used to reach us: after DNS rebinding, an attacker's page
    // sends its own name as both Host and Origin. An explicit list must not be bypassed by it.
    if (allowed !== null) return rules.some((rule) => rule(url));
    if (host !== undefined && url.host === host.toLowerCase()) return true;
    return !production && LOCAL_HOSTS.has(url.hostname);
  };
}

const DEFAULT_PORTS: Record<string, string> = { "http:": "80", "https:": "443" };

/** The port a URL really uses: `URL.port` is empty for the scheme's default port. */
function effectivePort(url: URL): string {
  return url.port || (DEFAULT_PORTS[url.protocol] ?? "");
}

function parseRule(entry: string): (url: URL) => boolean {
  const rule = entry.trim().toLowerCase();
  if (rule === "*") return () => true;
  const wildcard = /^(?:(https?):\/\/)?\*\.([a-z0-9-]+(?:\.[a-z0-9-]+)*)(?::(\d{1,5}))?$/.exec(rule);
  if (wildcard) {
    const [, scheme, domain, port] = wildcard;
    if (port !== undefined && (Number(port) < 1 || Number(port) > 65_535)) {
      throw new Error(`not a port: ${entry}`);
    }
    // Without a scheme, http and https pages match (never file:, extensions...); without a port,
    // any port of a subdomain matches; a port is compared with the one the origin really uses.
    return (url) =>
      (scheme === undefined ? Object.hasOwn(DEFAULT_PORTS, url.protocol) : url.protocol === `${scheme}:`) &&
      url.hostname.endsWith(`.${domain}`) &&
      (port === undefined || effectivePort(url) === String(Number(port)));
  }
  if (rule.includes("*")) throw new Error(`not an origin: ${entry}`);
  const url = new URL(rule);
  const bare = url.pathname === "/" && !url.search && !url.hash && !url.username && !url.password;
  if (!/^https?:$/.test(url.protocol) || !bare) {
    throw new Error(`not an origin: ${entry}`);
  }
  // URL.origin has the scheme, the host and the port (the default one left out on both sides).
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

/**
 * Refuses an upgrade from an origin the policy does not allow, with 403; `onRefused` is told first
 * (the app logs it), as a 403 alone does not say whether the origin or the consumer refused.
 */
export function originCheck(policy: OriginPolicy, onRefused?: (c: Context) => void): MiddlewareHandler {
  return async (c, next) => {
    if (!policy(c.req.header("origin"), c.req.header("host"))) {
      onRefused?.(c);
      return c.text("Origin not allowed", 403);
    }
    await next();
  };
}
