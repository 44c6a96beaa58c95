/**
 * Where the relay keeps its data and how its instances wake each other, named by URL:
 * `--store sqlite:./data` (today's only store: `<dir>/relay.sqlite`; `sqlite::memory:` for tests) and
 * `--bus local:` (one process). A new backend — `postgres://…`, `nats://…` — is one `register…` call
 * with a function that opens it; `start.ts` and `main.ts` only ever call `openStore` / `openBus`.
 */
import { existsSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import type { BlobStore } from "./blobs/blob-store.js";
import { FileBlobStore } from "./blobs/file-blob-store.js";
import { MemoryBlobStore } from "./blobs/memory-blob-store.js";
import type { Bus } from "./bus/bus.js";
import { LocalBus } from "./bus/local-bus.js";
import { NatsBus } from "./bus/nats-bus.js";
import { PostgresStore } from "./store/postgres/postgres-store.js";
import { SqliteStore } from "./store/sqlite/sqlite-store.js";
import type { Store } from "./store/store.js";

/** A store or bus URL that names no known backend, or one its backend cannot open. */
export class BackendError extends Error {
  override name = "BackendError";
}

export interface StoreOpenOptions {
  /** Open an existing store for reading only (`parley-server disclose`); never create one. */
  readonly?: boolean;
  /**
   * Told of damage the store finds while serving (a large body's file gone from under its row), for
   * the operator's log. Says what happened, never which queue or message.
   */
  onDamage?: (message: string) => void;
}

export interface OpenedStore {
  store: Store;
  /** What the ready line shows (never a credential): for SQLite, the data directory. */
  location: string;
  /** A local directory whose free disk space the storage guard watches, when there is one. */
  dataDir?: string;
  /**
   * Rejects when the store cannot serve (its database server is down): `/healthz` reports the
   * node unhealthy. Omitted: always healthy (an embedded store).
   */
  probe?: () => Promise<void>;
  /**
   * A store shared by several relay nodes: true for exactly one caller per `ms` across all of them
   * (the expiry sweep runs once across the cluster). Omitted: the node is alone, always true.
   */
  claimLease?: (name: string, now: number, ms: number) => Promise<boolean>;
  /** Gauges for /metrics (connection pool use), by name. */
  gauges?: () => Record<string, number>;
}

/** Opens a store from its whole URL (`sqlite:./data`, `postgres://user@host/db`, …). */
export type StoreBackend = (url: string, options: StoreOpenOptions) => OpenedStore | Promise<OpenedStore>;
/** Opens a bus from its whole URL (`local:`, `nats://host:4222`, …). */
export type BusBackend = (url: string) => Bus | Promise<Bus>;

export const DATABASE_FILE = "relay.sqlite";

export const databasePath = (dataDir: string): string => join(resolve(dataDir), DATABASE_FILE);

/** Opens a blob store from its whole URL (`file:./data/relay-blobs`, `memory:`, later others). */
export type BlobBackend = (url: string) => BlobStore | Promise<BlobStore>;

const storeBackends = new Map<string, StoreBackend>();
const busBackends = new Map<string, BusBackend>();
const blobBackends = new Map<string, BlobBackend>();

export function registerBlobBackend(scheme: string, open: BlobBackend): void {
  blobBackends.set(scheme.toLowerCase(), open);
}

export function openBlobStore(url: string): Promise<BlobStore> {
  return Promise.resolve().then(() => backendFor("blob store", url, blobBackends)(url));
}

/** The blob directory beside a SQLite store's database: `DIR/relay-blobs/`. */
export const BLOBS_DIR = "relay-blobs";
export const fileBlobsUrl = (dataDir: string): string => `file:${join(resolve(dataDir), BLOBS_DIR)}`;
export const MEMORY_BLOBS_URL = "memory:";

export function registerStoreBackend(scheme: string, open: StoreBackend): void {
  storeBackends.set(scheme.toLowerCase(), open);
}

export function registerBusBackend(scheme: string, open: BusBackend): void {
  busBackends.set(scheme.toLowerCase(), open);
}

/** `scheme` of `scheme:rest`, lower-cased; null when the text has no scheme. */
function schemeOf(url: string): string | null {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(url);
  return m ? m[1]!.toLowerCase() : null;
}

const known = (backends: Map<string, unknown>) => [...backends.keys()].map((s) => `${s}:`).join(", ");

function backendFor<T>(what: string, url: string, backends: Map<string, T>): T {
  const scheme = schemeOf(url);
  const backend = scheme === null ? undefined : backends.get(scheme);
  if (backend === undefined) {
    throw new BackendError(
      scheme === null
        ? `${what} "${url}" is not a URL (scheme:…); known: ${known(backends)}`
        : `unknown ${what} "${scheme}:" in "${url}"; known: ${known(backends)}`,
    );
  }
  return backend;
}

export function openStore(url: string, options: StoreOpenOptions = {}): Promise<OpenedStore> {
  return Promise.resolve().then(() => backendFor("store", url, storeBackends)(url, options));
}

export function openBus(url: string): Promise<Bus> {
  return Promise.resolve().then(() => backendFor("bus", url, busBackends)(url));
}

/** The store URL `--data <dir>` stands for. */
export const sqliteStoreUrl = (dataDir: string): string => `sqlite:${dataDir}`;
export const MEMORY_STORE_URL = "sqlite::memory:";
export const LOCAL_BUS_URL = "local:";

// SQLite: `sqlite:<dir>` holds `<dir>/relay.sqlite`, the directory created if missing;
// `sqlite::memory:` is a database in memory, gone when the relay stops.
registerStoreBackend("sqlite", (url, options) => {
  const rest = url.slice("sqlite:".length);
  if (rest === ":memory:") {
    if (options.readonly) throw new BackendError("an in-memory store cannot be opened read-only");
    return { store: SqliteStore.open(":memory:"), location: ":memory:" };
  }
  if (rest === "") throw new BackendError(`store "${url}" names no directory (sqlite:<dir>)`);
  const dataDir = resolve(rest);
  const path = databasePath(dataDir);
  if (options.readonly) {
    if (!existsSync(path)) throw new BackendError(`no relay database at ${path}`);
    return { store: SqliteStore.open(path, { readonly: true }), location: dataDir, dataDir };
  }
  mkdirSync(dataDir, { recursive: true });
  const onDamage = options.onDamage;
  const store = SqliteStore.open(path, {
    onMissingBody: () => onDamage?.("a message body file is missing (removed outside the relay): skipped"),
  });
  return { store, location: dataDir, dataDir };
});

/** `postgres://…?schema=name`: the connection URL without `schema`, and the schema it names. */
export function splitPostgresUrl(url: string): {
  connectionString: string;
  schema?: string;
  poolSize?: number;
} {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new BackendError(`store "${redact(url)}" is not a valid URL`);
  }
  const schema = parsed.searchParams.get("schema") ?? undefined;
  parsed.searchParams.delete("schema");
  // Connections this node keeps to PostgreSQL at most. Every node has its own pool, and PostgreSQL
  // refuses clients past its max_connections (100 by default): nodes × pool must stay under it.
  const pool = parsed.searchParams.get("pool");
  parsed.searchParams.delete("pool");
  const poolSize = pool === null ? undefined : Number(pool);
  if (poolSize !== undefined && !(Number.isInteger(poolSize) && poolSize >= 1 && poolSize <= 1000)) {
    throw new BackendError(
      `store "${redact(url)}": pool must be a whole number of connections from 1 to 1000`,
    );
  }
  return {
    connectionString: parsed.toString(),
    ...(schema === undefined ? {} : { schema }),
    ...(poolSize === undefined ? {} : { poolSize }),
  };
}

/** A URL as the ready line and errors may show it: never its password. */
export function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return url.replace(/:[^:@/]*@/, ":***@");
  }
}

// PostgreSQL, shared by several relay nodes: `postgres://user@host:5432/db` (libpq's URL, with
// `?schema=name` for a schema of the relay's own and `?pool=N` for its connections, default 16).
// Migrations run at open, under a lock.
const openPostgres: StoreBackend = async (url, options) => {
  const { connectionString, schema, poolSize } = splitPostgresUrl(url);
  let store: PostgresStore;
  try {
    store = await PostgresStore.open(connectionString, {
      ...(schema === undefined ? {} : { schema }),
      ...(poolSize === undefined ? {} : { poolSize }),
      ...(options.readonly ? { readonly: true } : {}),
      onConnectionError: () => options.onDamage?.("a PostgreSQL connection was lost; reconnecting"),
    });
  } catch (e) {
    throw new BackendError(`cannot open ${redact(url)}: ${(e as Error).message}`);
  }
  return {
    store,
    location: redact(url),
    probe: () => store.ping(),
    claimLease: (name, now, ms) => store.claimLease(name, now, ms),
    gauges: () => {
      const s = store.poolStats();
      return { pg_pool_connections: s.total, pg_pool_idle: s.idle, pg_pool_waiting: s.waiting };
    },
  };
};
registerStoreBackend("postgres", openPostgres);
registerStoreBackend("postgresql", openPostgres);

// NATS, for several relay nodes: `nats://host:4222` (several servers: `nats://a:4222,nats://b:4222`;
// `?prefix=name` for a subject prefix of its own, default `parley`).
registerBusBackend("nats", async (url) => {
  try {
    return await NatsBus.connect(url);
  } catch (e) {
    throw new BackendError(`cannot connect to ${redact(url)}: ${(e as Error).message}`);
  }
});

// The single-process bus: every subscriber is in this process.
registerBusBackend("local", (url) => {
  if (url.toLowerCase() !== LOCAL_BUS_URL) throw new BackendError(`the local bus takes no address: "${url}"`);
  return new LocalBus();
});

// Blobs in a directory (one file each): the single node's, or a directory every node mounts.
registerBlobBackend("file", (url) => {
  const dir = url.slice("file:".length);
  if (dir === "") throw new BackendError(`blob store "${url}" names no directory (file:<dir>)`);
  return new FileBlobStore(resolve(dir));
});

// Blobs in memory, gone when the relay stops (tests, `sqlite::memory:` relays).
registerBlobBackend("memory", (url) => {
  if (url.toLowerCase() !== MEMORY_BLOBS_URL)
    throw new BackendError(`the memory blob store takes no address: "${url}"`);
  return new MemoryBlobStore();
});
