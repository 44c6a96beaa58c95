import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import type { FastifyBaseLogger } from "fastify";
import type { Bus } from "./bus/bus.js";
import { LocalBus } from "./bus/local-bus.js";
import { type RelayConfig, resolveConfig } from "./config.js";
import { buildRelay } from "./http/app.js";
import { type DiskProbe, statfsProbe } from "./relay/storage-guard.js";
import { SqliteStore } from "./store/sqlite/sqlite-store.js";
import type { Store } from "./store/store.js";

export const DATABASE_FILE = "relay.sqlite";

export interface StartRelayOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  host?: string;
  /** Directory for relay.sqlite, created if missing; omitted: an in-memory database. */
  dataDir?: string;
  config?: Partial<RelayConfig>;
  logger?: FastifyBaseLogger | false;
  /** Use this store instead of opening one (it is then not closed by `close()`). */
  store?: Store;
  bus?: Bus;
  now?: () => number;
  /**
   * Reads the free disk space for the watermark (`minFreeDiskBytes`); by default statfs of
   * `dataDir` when one is given, else none (an in-memory database).
   */
  diskProbe?: DiskProbe;
}

export interface RunningRelay {
  /** Base URL, e.g. http://127.0.0.1:41234 */
  url: string;
  port: number;
  store: Store;
  /** Message bytes of replies in flight: `highWater` is the most there ever were at once. */
  replyBudget: { readonly inUse: number; readonly highWater: number; readonly limit: number };
  /**
   * Stops listening, drops WebSockets, lets requests in progress finish for up to
   * `shutdownGraceMs`, then cuts the connections still open; then closes the store and bus it opened.
   */
  close(): Promise<void>;
}

export const databasePath = (dataDir: string): string => join(resolve(dataDir), DATABASE_FILE);

/** Runs a real relay on a real port (used by main.ts and by other packages' tests). */
export async function startRelay(options: StartRelayOptions = {}): Promise<RunningRelay> {
  const host = options.host ?? "127.0.0.1";
  let store = options.store;
  const logFor: { log?: FastifyBaseLogger } = {}; // the store opens before the app that logs
  const ownsStore = store === undefined;
  if (!store) {
    if (options.dataDir !== undefined) mkdirSync(resolve(options.dataDir), { recursive: true });
    store = SqliteStore.open(options.dataDir !== undefined ? databasePath(options.dataDir) : ":memory:", {
      // No ids in the log (docs/relay-operations.md, "Logs"): that it happened is what an operator needs.
      onMissingBody: () =>
        logFor.log?.error("a message body file is missing (removed outside the relay): skipped"),
    });
  }
  const bus = options.bus ?? new LocalBus();
  const ownsBus = options.bus === undefined;
  let config: RelayConfig;
  try {
    config = resolveConfig(options.config);
  } catch (e) {
    if (ownsStore) await store.close();
    if (ownsBus) await bus.close();
    throw e;
  }
  const app = buildRelay({
    store,
    bus,
    config,
    logger: options.logger ?? false,
    now: options.now,
    diskProbe:
      options.diskProbe ??
      (options.dataDir !== undefined ? statfsProbe(resolve(options.dataDir)) : undefined),
  });
  logFor.log = app.log;
  try {
    await app.listen({ port: options.port ?? 0, host });
  } catch (e) {
    await app.close().catch(() => {});
    if (ownsStore) await store.close();
    if (ownsBus) await bus.close();
    throw e;
  }
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : (options.port ?? 0);
  const shownHost = host.includes(":") ? `[${host}]` : host;
  let closing: Promise<void> | undefined;
  const opened = store;
  return {
    url: `http://${shownHost}:${port}`,
    port,
    store: opened,
    replyBudget: app.replyBudget,
    close() {
      closing ??= (async () => {
        await app.close();
        if (ownsBus) await bus.close();
        if (ownsStore) await opened.close();
      })();
      return closing;
    },
  };
}
