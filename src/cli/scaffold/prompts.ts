/**
 * The questions `create` asks in a terminal, through @clack/prompts. Loaded only when there is a
 * terminal, so flags alone never need it. Cancelling (Ctrl-C) ends the command, writing nothing.
 */

import process from "node:process";
import { cancel, confirm, isCancel, select, text } from "@clack/prompts";
import type { ScaffoldOptions } from "./options.ts";

function answered<T>(value: T): Exclude<T, symbol> {
  if (isCancel(value)) {
    cancel("Nothing was created.");
    process.exit(2);
  }
  return value as Exclude<T, symbol>;
}

export async function target(): Promise<string> {
  return answered(
    await text({ message: "Where should the project go?", placeholder: "my-app", defaultValue: "my-app" }),
  );
}

export async function runtime(current: ScaffoldOptions["runtime"]): Promise<ScaffoldOptions["runtime"]> {
  return answered(
    await select({
      message: "Which runtime?",
      initialValue: current,
      options: [
        { value: "bun", label: "Bun" },
        { value: "deno", label: "Deno" },
        { value: "node", label: "Node (through tsx)" },
      ],
    }),
  );
}

export async function layer(): Promise<ScaffoldOptions["layer"]> {
  return answered(
    await select({
      message: "Which channel layer?",
      initialValue: "memory",
      options: [
        { value: "memory", label: "In memory (one process)" },
        { value: "redis", label: "Redis (many processes)" },
      ],
    }),
  );
}

export async function minimal(): Promise<boolean> {
  return !answered(await confirm({ message: "Include the starter app (chat, dashboard, worker, task)?" }));
}
