/**
 * POST /api/login `{ "name": "ada" }`: a DEMO login that signs a token for any name, so the auth
 * flow can be tried end to end. Replace it with a real credential check before you deploy; it
 * refuses to work when NODE_ENV=production.
 */
import type { Context } from "hono";
import { setCookie } from "hono/cookie";
import { getSettings, issueToken, readJson } from "hono-channels";

const settings = getSettings();

export async function POST(c: Context) {
  if (settings.production) return c.json({ error: "The demo login is disabled in production." }, 403);
  const body = (await readJson(c)) as { name?: unknown } | null;
  const name = typeof body?.name === "string" ? body.name.trim() : "";
  if (!/^[\w-]{1,50}$/.test(name))
    return c.json({ error: 'Send { "name": "..." } (letters, digits, _ or -).' }, 400);
  const token = await issueToken({ id: name, name }, settings.secretKey, 3600);
  setCookie(c, "session", token, { httpOnly: true, sameSite: "Lax", path: "/", maxAge: 3600 });
  return c.json({ token });
}
