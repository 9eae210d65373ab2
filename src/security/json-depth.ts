/**
 * Untrusted JSON, bounded in depth. `JSON.parse` accepts any nesting, but everything after it
 * that walks a value recursively (`JSON.stringify` in each dashboard's `sendJson`, validation,
 * codecs) has a stack: a 5 KB body of 2,500 nested arrays parses, then throws `RangeError` in
 * every consumer it reaches. So depth is measured on the text, in one loop with a counter, and
 * text nesting deeper than `MAX_JSON_DEPTH` is refused before anything parses or walks it.
 */
import { InvalidJsonError } from "../errors.ts";
import { getSettings } from "../settings.ts";

const QUOTE = 0x22; // "
const BACKSLASH = 0x5c;
const OPEN_BRACKET = 0x5b; // [
const CLOSE_BRACKET = 0x5d; // ]
const OPEN_BRACE = 0x7b; // {
const CLOSE_BRACE = 0x7d; // }

/**
 * True if `text` opens more than `maxDepth` arrays or objects inside one another (`[]` is depth 1,
 * `{"a":[1]}` depth 2, a scalar 0). Brackets inside strings do not count. Iterative: its own
 * stack use is the same for any input. Exact for valid JSON; for invalid JSON the answer does not
 * matter, since the text is refused either way.
 */
export function jsonDepthExceeds(text: string, maxDepth: number): boolean {
  // Nesting past maxDepth takes at least maxDepth + 1 characters: most frames are decided here.
  if (text.length <= maxDepth) return false;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (inString) {
      if (code === BACKSLASH)
        i++; // the escaped character cannot end the string
      else if (code === QUOTE) inString = false;
    } else if (code === QUOTE) {
      inString = true;
    } else if (code === OPEN_BRACKET || code === OPEN_BRACE) {
      if (++depth > maxDepth) return true;
    } else if (code === CLOSE_BRACKET || code === CLOSE_BRACE) {
      depth--;
    }
  }
  return false;
}

/**
 * Parses untrusted JSON text, refusing with `InvalidJsonError` (code `INVALID_JSON`) text that is
 * not JSON (`reason: "syntax"`) or nests deeper than `maxDepth` (`reason: "depth"`).
 * `maxDepth` defaults to the `MAX_JSON_DEPTH` setting.
 */
export function parseJson(text: string, maxDepth: number = getSettings().maxJsonDepth): unknown {
  // Measured first, so no parser (some are recursive) ever sees the hostile nesting.
  if (jsonDepthExceeds(text, maxDepth)) {
    throw new InvalidJsonError("depth", `JSON nests deeper than ${maxDepth} levels (MAX_JSON_DEPTH).`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new InvalidJsonError("syntax", `Not valid JSON: ${(error as Error).message}`, { cause: error });
  }
}
