/** A tiny levelled logger; the server and runner log through it so tests can capture or silence it. */

/** Log levels, most verbose first. */
export const LOG_LEVELS = ["debug", "info", "warn", "error", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** How lines are written: `text` for people, `json` (one object per line) for log collectors. */
export const LOG_FORMATS = ["text", "json"] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** What the framework logs through. */
export interface Logger {
  debug(message: string, details?: Record<string, unknown>): void;
  info(message: string, details?: Record<string, unknown>): void;
  warn(message: string, details?: Record<string, unknown>): void;
  error(message: string, details?: Record<string, unknown>): void;
}

type Level = Exclude<LogLevel, "silent">;
type Print = (...data: unknown[]) => void;

/** A logger writing to the console at `level` and above, as text or as one JSON object per line. */
export function createLogger(level: LogLevel = "info", format: LogFormat = "text"): Logger {
  const threshold = LOG_LEVELS.indexOf(level);
  const render = format === "json" ? jsonLine : textLine;
  // Looked up on each call, not bound once, so tests that replace console.* see the lines.
  const write = (at: Level, print: () => Print) => (message: string, details?: Record<string, unknown>) => {
    if (LOG_LEVELS.indexOf(at) < threshold) return;
    print()(...render(at, message, details));
  };
  return {
    debug: write("debug", () => console.debug),
    info: write("info", () => console.info),
    warn: write("warn", () => console.warn),
    error: write("error", () => console.error),
  };
}

/**
 * `[level] message`, then the details: inline as `key=value` when they are all plain values (so a
 * connection or access line stays one greppable line), else as an object for the console to show
 * (an error keeps its stack).
 */
function textLine(at: Level, message: string, details?: Record<string, unknown>): unknown[] {
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
function jsonLine(at: Level, message: string, details?: Record<string, unknown>): unknown[] {
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
