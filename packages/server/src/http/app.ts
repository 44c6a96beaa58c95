import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import type { Bus } from "../bus/bus.js";
import { type RelayConfig, resolveConfig } from "../config.js";
import type { RelayContext } from "../relay/context.js";
import { Retention } from "../retention.js";
import type { Store } from "../store/store.js";
import { installErrorHandling } from "./errors.js";
import { PrivacyLogController, safeError, withSafeSerializers } from "./logging.js";
import { healthRoutes } from "./routes/health.js";
import { inviteRoutes } from "./routes/invites.js";
import { queueRoutes } from "./routes/queues.js";
import { sendRoutes } from "./routes/send.js";
import { webAppRoutes } from "./static-app.js";
import { guardUpgrades, wsRoutes } from "./ws/route.js";
import type { SocketSession } from "./ws/session.js";

export interface BuildRelayOptions {
  store: Store;
  bus: Bus;
  config?: Partial<RelayConfig>;
  /** A pino logger (or anything Fastify accepts as `loggerInstance`); omitted or false: silent. */
  logger?: FastifyBaseLogger | false;
  /** The clock, for tests. */
  now?: () => number;
}

/**
 * The relay as a Fastify app, not yet listening. It does not own the store or the bus: the caller
 * closes them after `app.close()`. Closing the app stops the expiry sweep and drops WebSockets.
 */
export function buildRelay(options: BuildRelayOptions): FastifyInstance {
  const config = resolveConfig(options.config);
  const app = Fastify({
    ...(options.logger ? { loggerInstance: withSafeSerializers(options.logger) } : { logger: false }),
    logController: new PrivacyLogController(),
    // No proxy headers are trusted or read: the relay has no use for client addresses.
    trustProxy: false,
    bodyLimit: 4 * 1024,
    return503OnClosing: true,
  }) as unknown as FastifyInstance;

  const ctx: RelayContext = {
    store: options.store,
    bus: options.bus,
    config,
    retention: new Retention(config),
    now: options.now ?? Date.now,
    log: app.log,
  };

  // Bodies of sends and invites stay raw bytes; the per-route bodyLimit applies.
  app.addContentTypeParser(
    "application/octet-stream",
    { parseAs: "buffer", bodyLimit: Math.max(config.maxMessageBytes, 64 * 1024) },
    (_request, body, done) => done(null, body),
  );
  installErrorHandling(app);
  guardUpgrades(app);

  const sessions = new Set<SocketSession>();
  app.register(async (scope) => {
    await wsRoutes(scope, ctx, sessions);
    healthRoutes(scope);
    queueRoutes(scope, ctx);
    sendRoutes(scope, ctx);
    inviteRoutes(scope, ctx);
    if (config.staticDir) await webAppRoutes(scope, config.staticDir);
  });

  const timers: NodeJS.Timeout[] = [];
  app.addHook("onReady", async () => {
    if (config.sweepIntervalMs > 0) {
      // Once at start, for whatever expired while the relay was down, then periodically.
      void sweep(ctx);
      timers.push(setInterval(() => void sweep(ctx), config.sweepIntervalMs).unref());
    }
    timers.push(
      setInterval(() => {
        for (const session of sessions) session.heartbeat();
      }, config.heartbeatMs).unref(),
    );
  });
  app.addHook("onClose", async () => {
    for (const t of timers) clearInterval(t);
    for (const session of sessions) session.close();
  });
  return app;
}

/** Deletes what has expired; logs only how much. */
export async function sweep(ctx: RelayContext): Promise<void> {
  try {
    const counts = await ctx.store.expire(ctx.now());
    if (counts.messages + counts.queues + counts.invites + counts.nonces > 0)
      ctx.log.info({ expired: counts }, "sweep");
  } catch (e) {
    ctx.log.error({ err: safeError(e) }, "expiry sweep failed");
  }
}
