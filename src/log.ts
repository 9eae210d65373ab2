/** A tiny levelled logger; the server and runner log through it so tests can capture or silence it. */

/** Log levels, most verbose first. */
export const LOG_LEVELS = ["debug", "info", "warn", "error", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** What the framework logs through. */
export interface Logger {
  debug(message: string, details?: Record<string, unknown>): void;
  info(message: string, details?: Record<string, unknown>): void;
  warn(message: string, details?: Record<string, unknown>): void;
  error(message: string, details?: Record<string, unknown>): void;
}

/** A logger writing to the console at `level` and above. */
export function createLogger(level: LogLevel = "info"): Logger {
  const threshold = LOG_LEVELS.indexOf(level);
  const write =
    (at: Exclude<LogLevel, "silent">, print: (...data: unknown[]) => void) =>
    (message: string, details?: Record<string, unknown>) => {
      if (LOG_LEVELS.indexOf(at) < threshold) return;
      if (details) print(`[${at}] ${message}`, details);
      else print(`[${at}] ${message}`);
    };
  return {
    debug: write("debug", console.debug),
    info: write("info", console.info),
    warn: write("warn", console.warn),
    error: write("error", console.error),
  };
}
