/** `readJson(c)`: a view's JSON body, within `MAX_JSON_DEPTH` (see json-depth.ts for why). */
import type { Context } from "hono";
import { getSettings } from "../settings.ts";
import { parseJson } from "./json-depth.ts";

/** Options of `readJson`. */
export interface ReadJsonOptions {
  /** Deepest nesting accepted; the `MAX_JSON_DEPTH` setting (default 64) unless given. */
  maxDepth?: number;
}

/**
 * A view's request body, parsed as JSON within `MAX_JSON_DEPTH`: use it instead of
 * `c.req.json()`. A body that is not JSON or nests too deep throws `InvalidJsonError`, which
 * `createApp` answers with 400 `{ "error": "INVALID_JSON", "message": "..." }`; the view's code
 * after it does not run. The content type is not checked, as `c.req.json()` does not check it.
 * @example
 * export async function POST(c: Context) {
 *   const body = (await readJson(c)) as { name?: unknown } | null;
 * }
 */
export async function readJson(c: Context, options: ReadJsonOptions = {}): Promise<unknown> {
  // Reading errors (a body over MAX_BODY_BYTES, a client gone) are not JSON errors: they propagate.
  const text = await c.req.text();
  return parseJson(text, options.maxDepth ?? getSettings().maxJsonDepth);
}
