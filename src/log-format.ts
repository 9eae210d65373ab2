/** How a log line looks: text for people, one JSON object per line for log collectors. */
import type { Level } from "./log.ts";

/**
 * `[level] message`, then the details: inline as `key=value` when they are all plain values (so a
 * connection or access line stays one greppable line), else as an object for the console to show
 * (an error keeps its stack).
 */
export function textLine(at: Level, message: string, details?: Record<string, unknown>): unknown[] {
  if (!details) return [`[${at}] ${message}`];
  const entries = Object.entries(details);
  if (entries.every(([, value]) => isPlain(value))) {
    const pairs = entries.map(([key, value]) => ` ${key}=${plainText(value)}`).join("");
    return [`[${at}] ${message}${pairs}`];
  }
  return [`[${at}] ${message}`, details];
}

function isPlain(value: unknown): boolean {
  return value === null || ["string", "number", "boolean", "undefined"].includes(typeof value);
}

/** Strings with spaces, quotes or `=` are quoted so a line splits back into its pairs. */
function plainText(value: unknown): string {
  return typeof value === "string" && (value === "" || /[\s"=]/.test(value))
    ? JSON.stringify(value)
    : String(value);
}

/** `{ time, level, msg, ...details }` on one line; the three fixed fields win over details. */
export function jsonLine(at: Level, message: string, details?: Record<string, unknown>): unknown[] {
  const time = new Date().toISOString();
  const fixed = { time, level: at, msg: message };
  const fields = Object.assign({ ...fixed }, details, fixed);
  try {
    return [JSON.stringify(fields, jsonValue)];
  } catch {
    // A cycle in the details must not lose the line itself.
    return [JSON.stringify({ time, level: at, msg: message, details: String(details) })];
  }
}

/** Errors become `{ name, message, stack }` (JSON.stringify would print `{}`); bigints strings. */
function jsonValue(_key: string, value: unknown): unknown {
  if (value instanceof Error) {
    const cause = value.cause === undefined ? {} : { cause: value.cause };
    return { name: value.name, message: value.message, stack: value.stack, ...cause };
  }
  if (typeof value === "bigint") return value.toString();
  return value;
}
