/**
 * The entry users run (`bun run dev`, `deno task start`, `npm start`): read settings, scan
 * `routes/` and `consumers/`, build the app, start `workers/` and `tasks/`, run the startup hook,
 * serve it on this runtime, and shut down gracefully.
 */
import process from "node:process";
import { createApp } from "./app.ts";
import {
  describeBackground,
  resolveTasks,
  resolveWorkers,
  startBackground,
} from "./background/background.ts";
import { ConnectionSet } from "./consumer/connections.ts";
import { CloseCode } from "./consumer/frames.ts";
import { watchDescriptors } from "./descriptors.ts";
import { ChannelsError } from "./errors.ts";
import { createChannelLayer, setChannelLayer } from "./layers/default.ts";
import { type ChannelLayer, reportsStatus, waitUntilUp } from "./layers/layer.ts";
import { createLogger, type Logger } from "./log.ts";
import { resolveManifest } from "./routing/manifest.ts";
import { upgradeFetch } from "./routing/register.ts";
import { scanBackground, scanLifecycle, scanProject } from "./routing/scan.ts";
import { formatRouteTable } from "./routing/table.ts";
import { getRuntime } from "./serve.ts";
import { getSettings, type Settings } from "./settings.ts";

async function main(): Promise<void> {
  // Settings, then the layer, then the user's files: a route or consumer module that reads
  // getSettings() or getChannelLayer() while it is imported must get the real ones.
  const settings = getSettings();
  const logger = createLogger(settings.logLevel, settings.logFormat);
  const layer = await startLayer(settings, logger);
  const manifest = await scanProject(process.cwd());
  const hooks = await scanLifecycle(process.cwd());
  const background = await scanBackground(process.cwd());
  const workers = settings.runWorkers ? resolveWorkers(background) : [];
  const tasks = resolveTasks(background);
  const runtime = await getRuntime();
  const connections = new ConnectionSet();
  await hooks.startup?.({ layer, logger });
  const running = startBackground({ workers, tasks, layer, logger });
  const app = createApp({
    manifest,
    runtime,
    logger,
    connections,
    layer,
    allowedOrigins: settings.allowedOrigins,
    production: settings.production,
    limits: settings.limits,
    metrics: settings.metrics && { token: settings.metricsToken, background: running.stats },
  });
  const server = await runtime.serve(app, {
    port: settings.port,
    hostname: settings.host,
    maxFrameBytes: settings.limits.maxFrameBytes,
    maxBufferedBytes: settings.limits.maxBufferedBytes,
    logger,
    upgrades: upgradeFetch(app),
  });

  console.log(
    `Hono Channels on ${runtime.name}: listening on ${server.url.origin}\n${formatRouteTable(resolveManifest(manifest))}${describeBackground(workers, tasks)}`,
  );

  const stopWatching = watchDescriptors(logger);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) process.exit(130); // a second signal means "now"
    stopping = true;
    console.log(`${signal}: closing ${connections.size} connection(s)`);
    // A handler that never returns must not keep the process alive: give up a second after the timeout.
    const deadline = new Promise((resolve) => setTimeout(resolve, settings.shutdownTimeoutMs + 1000));
    await Promise.race([
      (async () => {
        // From now on workers take no new message and tasks start no new run; what they hold
        // finishes while the sockets close, then the hook runs, then the layer goes.
        await Promise.all([
          connections.closeAll(CloseCode.goingAway, "server shutting down", settings.shutdownTimeoutMs),
          running.stop(),
        ]);
        await hooks.shutdown?.({ layer, logger });
      })(),
      deadline,
    ]);
    stopWatching();
    await server.close();
    await layer.close();
    console.log("stopped");
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
}

/** Builds and installs the configured layer, logs its status changes, and gives it a moment to connect. */
async function startLayer(settings: Settings, logger: Logger): Promise<ChannelLayer> {
  const layer = await createChannelLayer(settings, logger);
  setChannelLayer(layer);
  if (reportsStatus(layer)) {
    layer.onStatus((status) => {
      const line = `channel layer ${settings.channelLayer} is ${status}`;
      if (status === "up") logger.info(line);
      else logger.warn(line);
    });
    // Serve anyway if it is slow: HTTP works without the layer, and the layer keeps reconnecting.
    await waitUntilUp(layer, 3000).catch(() =>
      logger.warn(`channel layer ${settings.channelLayer} is not reachable yet`),
    );
  }
  return layer;
}

main().catch((error: unknown) => {
  // Startup errors (a bad route file, a bad setting) are the user's to fix: show them plainly.
  if (error instanceof ChannelsError) console.error(`${error.name} [${error.code}] ${error.message}`);
  else console.error(error);
  process.exit(1);
});
