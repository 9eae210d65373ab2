/** `npm run routes` / `deno task routes`: prints the route table without starting a server. */
import process from "node:process";
import { describeBackground, resolveTasks, resolveWorkers } from "../background/background.ts";
import { ChannelsError } from "../errors.ts";
import { setChannelLayer } from "../layers/default.ts";
import { InMemoryChannelLayer } from "../layers/memory.ts";
import { resolveManifest } from "../routing/manifest.ts";
import { scanBackground, scanProject } from "../routing/scan.ts";
import { formatRouteTable } from "../routing/table.ts";

// Printing routes sends nothing: a module that takes the layer at import time gets a memory one,
// whatever CHANNEL_LAYER says, and no Redis connection is opened.
setChannelLayer(new InMemoryChannelLayer());
try {
  const background = await scanBackground(process.cwd());
  const table = formatRouteTable(resolveManifest(await scanProject(process.cwd())));
  console.log(table + describeBackground(resolveWorkers(background), resolveTasks(background)));
} catch (error) {
  if (!(error instanceof ChannelsError)) throw error;
  console.error(`${error.name} [${error.code}] ${error.message}`);
  process.exit(1);
}
// Done: a timer a user module started at import (a setInterval) must not keep the command alive.
process.exit(0);
