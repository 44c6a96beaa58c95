export {
  BackendError,
  type BusBackend,
  DATABASE_FILE,
  databasePath,
  LOCAL_BUS_URL,
  MEMORY_STORE_URL,
  type OpenedStore,
  openBus,
  openStore,
  registerBusBackend,
  registerStoreBackend,
  type StoreBackend,
  type StoreOpenOptions,
  sqliteStoreUrl,
} from "./backends.js";
export type { Bus, Unsubscribe } from "./bus/bus.js";
export { LocalBus } from "./bus/local-bus.js";
export { ConfigError, DEFAULT_CONFIG, daysToMs, type RelayConfig, resolveConfig } from "./config.js";
export { type BuildRelayOptions, buildRelay } from "./http/app.js";
export { type DiskProbe, type DiskSpace, statfsProbe } from "./relay/storage-guard.js";
export {
  type RunningRelay,
  type StartRelayOptions,
  startRelay,
} from "./start.js";
export { SchemaError } from "./store/sqlite/migrate.js";
export { SqliteStore, type SqliteStoreOptions } from "./store/sqlite/sqlite-store.js";
export type {
  CreateQueueOptions,
  DisclosedInvite,
  DisclosedQueue,
  Disclosure,
  EnqueueResult,
  ExpiryCounts,
  FetchOptions,
  NonceRecord,
  QueueLimits,
  QueueRecord,
  QueueUsage,
  Store,
  StoredMessage,
} from "./store/store.js";
export { StoreUnavailableError } from "./store/store.js";
