/** A tiny levelled logger; the server and runner log through it so tests can capture or silence it. */
import { jsonLine, textLine } from "./log-format.ts";

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
  /** Whether lines at `level` are written; a logger without it is taken to write every level. */
  logs?(level: Level): boolean;
}

/** A level a line can have. */
export type Level = Exclude<LogLevel, "silent">;
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
    logs: (level) => LOG_LEVELS.indexOf(level) >= threshold,
    debug: write("debug", () => console.debug),
    info: write("info", () => console.info),
    warn: write("warn", () => console.warn),
    error: write("error", () => console.error),
  };
}

/**
 * A warning for something that can happen thousands of times a second (a burst into a full room):
 * at most one line per `intervalMs`, carrying how many times it happened since the last line.
 */
export function throttledWarning(
  logger: Logger | undefined,
  now: () => number = Date.now,
  intervalMs = 1000,
): (message: (times: number) => string, details?: Record<string, unknown>) => void {
  let last = Number.NEGATIVE_INFINITY;
  let times = 0;
  return (message, details = {}) => {
    times++;
    if (now() - last < intervalMs) return;
    last = now();
    logger?.warn(message(times), { ...details, times });
    times = 0;
  };
}
