/** `npm run routes` / `deno task routes`: prints the route table without starting a server. */
import process from "node:process";
import { ChannelsError } from "../errors.ts";
import { resolveManifest } from "../routing/manifest.ts";
import { scanProject } from "../routing/scan.ts";
import { formatRouteTable } from "../routing/table.ts";

try {
  console.log(formatRouteTable(resolveManifest(await scanProject(process.cwd()))));
} catch (error) {
  if (!(error instanceof ChannelsError)) throw error;
  console.error(`${error.name} [${error.code}] ${error.message}`);
  process.exit(1);
}
