/**
 * Preloaded into every server the socket benchmark starts (the project's and the baselines', so all
 * carry the same few bytes): on SIGUSR2, a full garbage collection. The load generator sends it
 * before each reading of the server's resident memory, so garbage from the warm-up is not counted
 * in one reading and freed before the other (which made "memory per connection" negative).
 * Node needs `--expose-gc`, Deno `--v8-flags=--expose-gc`; Bun has `Bun.gc`. Nothing in src/.
 */
import process from "node:process";

const collect: (() => void) | undefined =
  typeof Bun !== "undefined" ? () => Bun.gc(true) : (globalThis as { gc?: () => void }).gc;
process.on("SIGUSR2", () => collect?.());
