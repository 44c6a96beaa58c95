import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import type { BlobStore } from "../blobs/blob-store.js";
import { MemoryBlobStore } from "../blobs/memory-blob-store.js";
import type { Bus } from "../bus/bus.js";
import { type RelayConfig, resolveConfig } from "../config.js";
import { badRequest, Problem } from "../problem.js";
import { expireBlobs, removeOrphanBlobs } from "../relay/blobs.js";
import { BodyPool } from "../relay/body-pool.js";
import { ByteBudget, SMALL_REPLY_RESERVE } from "../relay/byte-budget.js";
import type { RelayContext } from "../relay/context.js";
import { PowGate } from "../relay/pow-gate.js";
import { type DiskProbe, StorageGuard } from "../relay/storage-guard.js";
import { TurnPacer } from "../relay/turn-pacer.js";
import { Retention } from "../retention.js";
import type { Store } from "../store/store.js";
import { corsRoutes } from "./cors.js";
import {
  apiHeaders,
  clientErrorHandler,
  frameworkErrors,
  installErrorHandling,
  sendProblem,
} from "./errors.js";
import { PrivacyLogController, safeError, withSafeSerializers } from "./logging.js";
import { createMetrics, metricsRoutes } from "./metrics.js";
import { readRawBody, type TakeBuffer } from "./raw-body.js";
import { blobRoutes } from "./routes/blobs.js";
import { healthRoutes } from "./routes/health.js";
import { inviteRoutes } from "./routes/invites.js";
import { queueRoutes } from "./routes/queues.js";
import { sendRoutes } from "./routes/send.js";
import { sendBatchRoutes } from "./routes/send-batch.js";
import { webAppRoutes } from "./static-app.js";
import { guardUpgrades, wsRoutes } from "./ws/route.js";
import type { SocketSession } from "./ws/session.js";

declare module "fastify" {
  interface FastifyInstance {
    /** Bounds the message bytes of replies in flight (fetches and WebSocket pushes); see ByteBudget. */
    replyBudget: ByteBudget;
  }
}

export interface BuildRelayOptions {
  store: Store;
  bus: Bus;
  /** Where blob bytes go; omitted: in memory (with an in-memory store). */
  blobs?: BlobStore;
  config?: Partial<RelayConfig>;
  /** A pino logger (or anything Fastify accepts as `loggerInstance`); omitted or false: silent. */
  logger?: FastifyBaseLogger | false;
  /** The clock, for tests. */
  now?: () => number;
  /**
   * Reads the free space where the data lives (startRelay passes statfs of the data directory);
   * omitted: no disk watermark (an in-memory store). Tests pass one that reports a full disk.
   */
  diskProbe?: DiskProbe;
  /** The store's health check (PostgreSQL answers), for /healthz; omitted: always healthy. */
  storeProbe?: () => Promise<void>;
  /**
   * A cluster-wide lease (a store shared by several nodes): the expiry sweep runs only on the node
   * that gets it, once per interval across the cluster. Omitted: this node sweeps on its own.
   */
  claimLease?: (name: string, now: number, ms: number) => Promise<boolean>;
  /** More gauges for /metrics (connection pool use), by name. */
  gauges?: () => Record<string, number>;
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
    // Answered by the onRequest hook below instead, in the relay's {code, error} form.
    return503OnClosing: false,
    // Slow clients cannot hold a connection for ever (see docs/threat-model.md, "Denial of service").
    connectionTimeout: config.idleTimeoutMs,
    keepAliveTimeout: config.keepAliveTimeoutMs,
    requestTimeout: config.requestTimeoutMs,
    http: {
      // Node would answer a request without Host itself, in no format of ours: the hook below does.
      requireHostHeader: false,
      headersTimeout: config.headersTimeoutMs,
      requestTimeout: config.requestTimeoutMs,
      // How often Node looks for requests past their timeouts (its default is 30 s).
      connectionsCheckingInterval: Math.max(
        10,
        Math.min(1000, Math.floor(Math.min(config.headersTimeoutMs, config.requestTimeoutMs) / 4)),
      ),
    },
    clientErrorHandler,
    frameworkErrors,
  }) as unknown as FastifyInstance;
  // One global cap, no per-client identity: beyond it new connections are closed at accept.
  app.server.maxConnections = config.maxConnections;
  let dropped = 0;
  app.server.on("drop", () => {
    dropped++;
  });

  const now = options.now ?? Date.now;
  const ctx: RelayContext = {
    store: options.store,
    bus: options.bus,
    blobs: options.blobs ?? new MemoryBlobStore(),
    blobWriters: new Set(),
    config,
    retention: new Retention(config),
    now,
    log: app.log,
    storage: new StorageGuard(config, options.store, options.diskProbe, now, app.log),
    pow: new PowGate(config, now),
    metrics: createMetrics(),
  };

  // Bodies of sends and invites stay raw bytes, read without one large copy (raw-body.ts); the
  // route's bodyLimit applies.
  const rawBodyLimit = Math.max(config.maxMessageBytes, 64 * 1024);
  // Large upload bodies are read into buffers reused from this pool (raw-body.ts); the send route
  // gives each back once its message is stored. Fetch replies read large bodies into it too.
  const bodies = new BodyPool(config.replyBudgetBytes);
  const takeBody: TakeBuffer = (size) => {
    const borrower = bodies.borrower();
    return { buffer: borrower.take(size), giveBack: () => borrower.giveBack() };
  };
  app.addContentTypeParser("application/octet-stream", (request, payload, done) => {
    readRawBody(payload, request.routeOptions.bodyLimit ?? rawBodyLimit, takeBody).then(
      (body) => done(null, body),
      (error: Error) => done(error, undefined),
    );
  });
  installErrorHandling(app);
  apiHeaders(app);
  const sessions = new Set<SocketSession>();
  let closing = false;
  app.addHook("preClose", async () => {
    closing = true;
    // Idle connections close at once; busy ones (a slow upload, a long download, a WebSocket that
    // does not answer the close handshake) get the grace period, then are cut: shutdown always ends.
    const cut = setTimeout(() => {
      app.server.closeAllConnections();
      for (const session of sessions) session.terminate();
    }, config.shutdownGraceMs).unref();
    app.server.once("close", () => clearTimeout(cut));
  });
  app.addHook("onRequest", async (request, reply) => {
    if (!request.headers.host) {
      reply.header("connection", "close");
      return sendProblem(reply, badRequest("a Host header is required (HTTP/1.1)"));
    }
    if (!closing) return;
    reply.header("connection", "close");
    return sendProblem(reply, new Problem("busy", "the relay is shutting down; try again shortly"));
  });
  guardUpgrades(app, config);

  const replies = new ByteBudget(config.replyBudgetBytes, SMALL_REPLY_RESERVE);
  app.decorate("replyBudget", replies);
  const pacer = new TurnPacer();
  app.register(async (scope) => {
    corsRoutes(scope, config);
    await wsRoutes(scope, ctx, sessions, replies);
    healthRoutes(scope, ctx);
    metricsRoutes(scope, ctx.metrics!, {
      bus: options.bus,
      storeProbe: options.storeProbe,
      gauges: options.gauges,
      connections: () => sessions.size,
    });
    queueRoutes(scope, ctx, replies, pacer, bodies);
    sendRoutes(scope, ctx);
    sendBatchRoutes(scope, ctx);
    inviteRoutes(scope, ctx);
    await blobRoutes(scope, ctx);
    if (config.staticDir) await webAppRoutes(scope, config.staticDir, config.publicOrigins);
  });

  const timers: NodeJS.Timeout[] = [];
  app.addHook("onReady", async () => {
    try {
      const orphans = await removeOrphanBlobs(ctx);
      if (orphans > 0) app.log.info({ orphans }, "removed blob files no row names");
    } catch (e) {
      app.log.error({ err: safeError(e) }, "orphan blob check failed");
    }
    if (config.sweepIntervalMs > 0) {
      // Once at start, for whatever expired while the relay was down, then periodically.
      const lease = options.claimLease;
      // With a shared store, one node per interval gets the lease and sweeps; a node that dies
      // holds it only until it lapses. A little shorter than the interval, so the node that swept
      // last can take it again on its next tick.
      const sweepOnce = () =>
        lease
          ? lease("sweep", ctx.now(), Math.max(1, Math.floor(config.sweepIntervalMs * 0.9))).then(
              (mine) => (mine ? sweep(ctx) : undefined),
              (e) => ctx.log.error({ err: safeError(e) }, "expiry sweep lease failed"),
            )
          : sweep(ctx);
      void sweepOnce();
      timers.push(setInterval(() => void sweepOnce(), config.sweepIntervalMs).unref());
    }
    timers.push(
      setInterval(() => {
        for (const session of sessions) session.heartbeat();
        if (dropped > 0) {
          app.log.warn({ dropped, maxConnections: config.maxConnections }, "connections refused: at the cap");
          dropped = 0;
        }
      }, config.heartbeatMs).unref(),
    );
  });
  app.addHook("onClose", async () => {
    for (const t of timers) clearInterval(t);
    for (const session of sessions) session.close();
    bodies.clear();
  });
  return app;
}

/**
 * Deletes what has expired, then gives freed space back to the filesystem (a bounded amount per
 * sweep: acks and deleted queues free pages between sweeps too); logs only how much.
 */
export async function sweep(ctx: RelayContext): Promise<void> {
  try {
    const counts = await ctx.store.expire(ctx.now());
    const blobs = await expireBlobs(ctx);
    const released = await ctx.store.compact();
    if (counts.messages + counts.queues + counts.invites + counts.nonces + blobs > 0 || released > 0)
      ctx.log.info({ expired: { ...counts, blobs }, releasedBytes: released }, "sweep");
  } catch (e) {
    ctx.log.error({ err: safeError(e) }, "expiry sweep failed");
  }
}
