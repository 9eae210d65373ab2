/** The Hono handler that turns an upgrade request into a running consumer. */
import type { Handler } from "hono";
import type { Runtime } from "../adapters/runtime.ts";
import type { ChannelLayer } from "../layers/layer.ts";
import type { Logger } from "../log.ts";
import type { Limits } from "../security/limits.ts";
import { logRefusedUpgrade } from "./connection-log.ts";
import type { ConnectionSet } from "./connections.ts";
import type { ConsumerClass } from "./consumer.ts";
import { ConsumerRunner } from "./runner.ts";
import { scopeFromContext } from "./scope.ts";
import { isValidHandshake } from "./upgrade-request.ts";

/** What the upgrade handler needs from the app. */
export interface UpgradeContext {
  /** The runtime adapter; `null` in an app built without a server (upgrades answer 501). */
  runtime: Pick<Runtime, "upgrade" | "client"> | null;
  logger: Logger;
  connections: ConnectionSet;
  layer: ChannelLayer;
  limits: Limits;
}

/**
 * Runs the consumer's `connect()` before answering the handshake, as Channels does: the client
 * gets 101 with the subprotocol the consumer accepted, or the HTTP status of a refusal (403).
 */
export function createUpgradeHandler(consumer: ConsumerClass, context: UpgradeContext): Handler {
  return async (c) => {
    const { runtime } = context;
    if (!runtime) return c.text("WebSocket upgrades need a server adapter", 501);
    // Only a well-formed handshake may start a consumer: the runtimes would refuse the rest (or, on
    // Deno, accept it) only after connect() and its group joins had already run.
    const { logger } = context;
    if (!isValidHandshake(c)) {
      logRefusedUpgrade(logger, c, "handshake", 400);
      return c.text("Bad WebSocket handshake", 400);
    }
    if (!context.connections.accepting) {
      logRefusedUpgrade(logger, c, "limit", 503, { limit: "shutting down" });
      return c.text("Server is shutting down", 503);
    }
    const { maxConnections } = context.limits;
    if (maxConnections > 0 && context.connections.size >= maxConnections) {
      // Also a warning: at LOG_LEVEL=warn an operator must still learn the server is full.
      logger.warn(`connection refused at ${c.req.path}: MAX_CONNECTIONS (${maxConnections}) reached`);
      logRefusedUpgrade(logger, c, "limit", 503, { limit: "MAX_CONNECTIONS", maxConnections });
      return c.text("Too many connections", 503);
    }
    const runner = new ConsumerRunner(consumer, scopeFromContext(c, runtime.client(c)), {
      logger,
      layer: context.layer,
      limits: context.limits,
    });
    context.connections.add(runner);
    const decision = await runner.start();
    if (!decision.accepted) {
      const { status, code } = decision;
      // 4401 -> 401 is the consumer's own auth refusal; 500 is connect() failing (logged as an error).
      const reason = status === 401 ? "auth" : status === 503 ? "limit" : status >= 500 ? "error" : "refused";
      logRefusedUpgrade(logger, c, reason, status, { consumer: consumer.name, code });
      return c.body(null, status as 403);
    }
    try {
      const response = await runtime.upgrade(c, decision, runner);
      if (response.status >= 400) runner.upgradeFailed();
      return response;
    } catch (error) {
      runner.upgradeFailed();
      throw error;
    }
  };
}
