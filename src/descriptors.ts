/**
 * Watches this process's open file descriptors against its limit (Linux, through /proc) and logs
 * when they run short: Bun and Node stop accepting silently when accept() fails with EMFILE (Deno's
 * adapter reports its own accept failures). Where /proc is missing it does nothing.
 */
import { readdirSync, readFileSync } from "node:fs";
import type { Logger } from "./log.ts";

/** The soft limit on open descriptors, or null where /proc cannot tell. */
function descriptorLimit(): number | null {
  try {
    const limit = Number(/^Max open files\s+(\d+)/m.exec(readFileSync("/proc/self/limits", "utf8"))?.[1]);
    return Number.isFinite(limit) && limit > 0 ? limit : null;
  } catch {
    return null;
  }
}

/** Open descriptors; at the limit itself /proc cannot be opened either (EMFILE), which says as much. */
function openDescriptors(limit: number): number | null {
  try {
    return readdirSync("/proc/self/fd").length;
  } catch (error) {
    const code = (error as { code?: string }).code;
    return code === "EMFILE" || code === "ENFILE" ? limit : null;
  }
}

/** Logs a warning once past `high` of the limit, and once when back under `low`. Returns a stop function. */
export function watchDescriptors(logger: Logger, intervalMs = 5000, high = 0.9, low = 0.8): () => void {
  const limit = descriptorLimit(); // read once: the check must not need a descriptor of its own
  if (limit === null) return () => {};
  let short = false;
  const timer = setInterval(() => {
    const open = openDescriptors(limit);
    if (open === null) return;
    if (!short && open >= high * limit) {
      short = true;
      logger.warn(
        `file descriptors nearly exhausted (${open} of ${limit}): new connections wait or are refused`,
      );
    } else if (short && open < low * limit) {
      short = false;
      logger.info(`file descriptors available again (${open} of ${limit} open)`);
    }
  }, intervalMs);
  (timer as { unref?: () => void }).unref?.();
  return () => clearInterval(timer);
}
