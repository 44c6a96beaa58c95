import { resolve } from "node:path";
import type { FastifyBaseLogger } from "fastify";
import {
  fileBlobsUrl,
  LOCAL_BUS_URL,
  MEMORY_BLOBS_URL,
  MEMORY_STORE_URL,
  type OpenedStore,
  openBlobStore,
  openBus,
  openStore,
  sqliteStoreUrl,
} from "./backends.js";
import type { BlobStore } from "./blobs/blob-store.js";
import type { Bus } from "./bus/bus.js";
import { type RelayConfig, resolveConfig } from "./config.js";
import { buildRelay } from "./http/app.js";
import { type DiskProbe, statfsProbe } from "./relay/storage-guard.js";
import type { Store } from "./store/store.js";

export interface StartRelayOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  host?: string;
  /**
   * The store to open, by URL (backends.ts): `sqlite:./data`, later `postgres://…`. Omitted: the
   * SQLite store of `dataDir`, or an in-memory one when there is no `dataDir` either.
   */
  storeUrl?: string;
  /** Directory for relay.sqlite, created if missing (`sqlite:<dataDir>`); omitted: an in-memory database. */
  dataDir?: string;
  /** The bus to open, by URL: `local:` (the default), later `nats://…`. */
  busUrl?: string;
  /**
   * Where blob bytes go, by URL: `file:<dir>`, `memory:`. Default: `relay-blobs/` beside a SQLite
   * store's database, in memory for an in-memory store.
   */
  blobsUrl?: string;
  config?: Partial<RelayConfig>;
  logger?: FastifyBaseLogger | false;
  /** Use this store instead of opening one (it is then not closed by `close()`). */
  store?: Store;
  /** Use this bus instead of opening one (it is then not closed by `close()`). */
  bus?: Bus;
  now?: () => number;
  /**
   * Reads the free disk space for the watermark (`minFreeDiskBytes`); by default statfs of the
   * store's local directory when it has one (SQLite on disk), else none.
   */
  diskProbe?: DiskProbe;
}

export interface RunningRelay {
  /** Base URL, e.g. http://127.0.0.1:41234 */
  url: string;
  port: number;
  store: Store;
  /** Where the store is, as the ready line shows it: for SQLite, the data directory. */
  location: string;
  /** Message bytes of replies in flight: `highWater` is the most there ever were at once. */
  replyBudget: { readonly inUse: number; readonly highWater: number; readonly limit: number };
  /**
   * Stops listening, drops WebSockets, lets requests in progress finish for up to
   * `shutdownGraceMs`, then cuts the connections still open; then closes the store and bus it opened.
   */
  close(): Promise<void>;
}

/**
 * Connections the kernel holds for the relay before it accepts them (listen(2) backlog; Linux caps
 * it at net.core.somaxconn, 4096 by default since 5.4). Node's default is 511. When the relay's
 * thread is held up (a shared machine that does not give it a core for a few hundred ms, a burst of
 * clients reconnecting after a restart), connections pile up in that queue; once it is full the
 * kernel drops new SYNs and each such client waits for its SYN's retransmission: 1 s, then 3 s,
 * 7 s. In the cluster bench's latency run (1,500 msg/s, its process starved of CPU) that was most of
 * the p99: 905 of 2,055 new connections took over 900 ms to connect, 18,396 SYNs dropped
 * (ListenOverflows). A longer queue turns the drop into a wait of the stall's length.
 */
export const LISTEN_BACKLOG = 4096;

/** Runs a real relay on a real port (used by main.ts and by other packages' tests). */
export async function startRelay(options: StartRelayOptions = {}): Promise<RunningRelay> {
  const host = options.host ?? "127.0.0.1";
  let store = options.store;
  const logFor: { log?: FastifyBaseLogger } = {};
  const ownsStore = store === undefined;
  let location = "(given store)";
  let storeDir: string | undefined;
  let shared: Pick<OpenedStore, "probe" | "claimLease" | "gauges"> = {};
  if (!store) {
    const url =
      options.storeUrl ??
      (options.dataDir !== undefined ? sqliteStoreUrl(options.dataDir) : MEMORY_STORE_URL);
    // The store opens before the app that logs: damage it finds is logged once the app is there.
    const opened = await openStore(url, { onDamage: (message) => logFor.log?.error(message) });
    store = opened.store;
    location = opened.location;
    storeDir = opened.dataDir;
    shared = opened;
  }
  let bus = options.bus;
  const ownsBus = bus === undefined;
  let config: RelayConfig;
  let blobs: BlobStore;
  try {
    bus ??= await openBus(options.busUrl ?? LOCAL_BUS_URL);
    config = resolveConfig(options.config);
    blobs = await openBlobStore(
      options.blobsUrl ?? (storeDir !== undefined ? fileBlobsUrl(storeDir) : MEMORY_BLOBS_URL),
    );
  } catch (e) {
    if (ownsStore) await store.close();
    if (ownsBus) await bus?.close();
    throw e;
  }
  const app = buildRelay({
    store,
    bus,
    blobs,
    config,
    logger: options.logger ?? false,
    now: options.now,
    ...(shared.probe ? { storeProbe: shared.probe } : {}),
    ...(shared.claimLease ? { claimLease: shared.claimLease } : {}),
    ...(shared.gauges ? { gauges: shared.gauges } : {}),
    diskProbe:
      options.diskProbe ??
      (storeDir !== undefined
        ? statfsProbe(storeDir)
        : options.dataDir !== undefined
          ? statfsProbe(resolve(options.dataDir))
          : undefined),
  });
  logFor.log = app.log;
  try {
    await app.listen({ port: options.port ?? 0, host, backlog: LISTEN_BACKLOG });
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
  const openedBus = bus;
  return {
    url: `http://${shownHost}:${port}`,
    port,
    store: opened,
    location,
    replyBudget: app.replyBudget,
    close() {
      closing ??= (async () => {
        await app.close();
        await blobs.close();
        if (ownsBus) await openedBus.close();
        if (ownsStore) await opened.close();
      })();
      return closing;
    },
  };
}
