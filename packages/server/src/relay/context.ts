import type { FastifyBaseLogger } from "fastify";
import type { BlobStore } from "../blobs/blob-store.js";
import type { Bus } from "../bus/bus.js";
import type { RelayConfig } from "../config.js";
import type { RelayMetrics } from "../http/metrics.js";
import type { Retention } from "../retention.js";
import type { Store } from "../store/store.js";
import type { PowGate } from "./pow-gate.js";
import type { StorageGuard } from "./storage-guard.js";

/** What every route and WebSocket session works with. */
export interface RelayContext {
  store: Store;
  bus: Bus;
  config: RelayConfig;
  retention: Retention;
  now: () => number;
  log: FastifyBaseLogger;
  /** The disk and database watermark: refuses new data while storage is full. */
  storage: StorageGuard;
  /** The bytes of blobs (file attachments); their metadata is `store.blobs`. */
  blobs: BlobStore;
  /** Blobs being written right now (one writer per blob at a time). */
  blobWriters: Set<string>;
  /** Proof of work for queue and invite creation (a no-op when `powBits` is 0). */
  pow: PowGate;
  /** Counters for /metrics; omitted in tests that build a context by hand. */
  metrics?: RelayMetrics;
}
