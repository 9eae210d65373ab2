/** Picks the runtime adapter: the one place that asks whether this is Bun, Deno or Node. */
import type { Runtime } from "./adapters/runtime.ts";

/** The name of the runtime this process runs on. */
export function detectRuntime(): Runtime["name"] {
  if ("Bun" in globalThis) return "bun";
  if ("Deno" in globalThis) return "deno";
  return "node";
}

/** Loads the adapter for this runtime; only that adapter's imports are evaluated. */
export async function getRuntime(): Promise<Runtime> {
  switch (detectRuntime()) {
    case "bun":
      return (await import("./adapters/bun.ts")).runtime;
    case "deno":
      return (await import("./adapters/deno.ts")).runtime;
    case "node":
      return (await import("./adapters/node.ts")).runtime;
  }
}
