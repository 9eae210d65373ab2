/**
 * `npm run worker [channel ...]` / `deno task worker`: runs the workers of `workers/` (all, or the
 * named channels) without a web server, as Channels' `runworker`, so they scale apart from web
 * processes. With the Redis layer, workers on one channel in several processes compete: each
 * message is handled once. Start web processes with `RUN_WORKERS=false` to leave the work here.
 */
import process from "node:process";
import { resolveWorkers, startBackground } from "../background/background.ts";
import { ChannelsError } from "../errors.ts";
import { createChannelLayer, setChannelLayer } from "../layers/default.ts";
import { reportsStatus, waitUntilUp } from "../layers/layer.ts";
import { createLogger } from "../log.ts";
import { scanBackground } from "../routing/scan.ts";
import { getSettings } from "../settings.ts";

async function main(): Promise<void> {
  const settings = getSettings();
  const logger = createLogger(settings.logLevel, settings.logFormat);
  const layer = await createChannelLayer(settings, logger);
  setChannelLayer(layer);
  if (reportsStatus(layer))
    await waitUntilUp(layer, 3000).catch(() => logger.warn("channel layer not reachable yet"));
  const wanted = process.argv.slice(2);
  const all = resolveWorkers(await scanBackground(process.cwd()));
  const unknown = wanted.filter((channel) => !all.some((worker) => worker.channel === channel));
  if (unknown.length > 0) {
    throw new ChannelsError(
      "NO_WORKER",
      `No worker for ${unknown.join(", ")}: workers/ has ${all.map((w) => w.channel).join(", ") || "none"}.`,
    );
  }
  const workers = wanted.length > 0 ? all.filter((worker) => wanted.includes(worker.channel)) : all;
  if (workers.length === 0) throw new ChannelsError("NO_WORKER", "workers/ holds no worker to run.");
  const running = startBackground({ workers, tasks: [], layer, logger });
  console.log(`Hono Channels worker: consuming ${workers.map((worker) => worker.channel).join(", ")}`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) process.exit(130); // a second signal means "now"
    stopping = true;
    console.log(`${signal}: finishing the messages in hand`);
    // A handler that never returns must not keep the process alive: give up a second after the timeout.
    const deadline = new Promise((resolve) => setTimeout(resolve, settings.shutdownTimeoutMs + 1000));
    await Promise.race([running.stop(), deadline]);
    await layer.close();
    console.log("stopped");
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
}

main().catch((error: unknown) => {
  if (error instanceof ChannelsError) console.error(`${error.name} [${error.code}] ${error.message}`);
  else console.error(error);
  process.exit(1);
});
