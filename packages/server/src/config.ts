import { DEFAULT_MAX_MESSAGE_BYTES, FETCH_MAX_BYTES, PADDING_BUCKETS } from "@parley/protocol";

const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;

export interface RelayConfig {
  /** How long an unacknowledged message, and a queue nobody uses, is kept. */
  ttlMs: number;
  /** How long an unclaimed invite is kept. */
  inviteTtlMs: number;
  /** Largest accepted message body; bodies must also be a padding bucket size. */
  maxMessageBytes: number;
  /** Soft cap on the bodies in one fetch reply or WebSocket batch (one message is always allowed). */
  maxFetchBytes: number;
  /** How often expired data is deleted; 0 turns the sweep off (tests call `store.expire` themselves). */
  sweepIntervalMs: number;
  /**
   * Every time the relay writes to disk is rounded up to this, so the database tells when something
   * arrived or was used only to within this much.
   */
  timeGranularityMs: number;
  /** How often idle WebSocket connections are pinged; a connection that misses a pong is dropped. */
  heartbeatMs: number;
  /** Directory served at `/` (the browser app), or undefined for none. */
  staticDir?: string | undefined;
  /**
   * Most TCP connections (HTTP and WebSocket together) open at once; more are refused at accept.
   * Needs no client identity, so it works the same behind a reverse proxy.
   */
  maxConnections: number;
  /** A client must send its request headers within this long of connecting (or of its last request). */
  headersTimeoutMs: number;
  /** A client must send its whole request, body included, within this long; else 408 and closed. */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this long. */
  keepAliveTimeoutMs: number;
  /** A connection with no traffic at all for this long is closed (WebSockets: see heartbeatMs). */
  idleTimeoutMs: number;
  /** On shutdown, connections still open after this long are cut. */
  shutdownGraceMs: number;
  /**
   * Message bytes in fetch replies and WebSocket pushes being built or written at once, across all
   * clients. A fetch that finds it used up waits (up to replyWaitMs), then is refused `busy`.
   */
  replyBudgetBytes: number;
  /** How long a fetch waits for room in replyBudgetBytes before it is refused `busy`. */
  replyWaitMs: number;
  /**
   * Web origins besides the relay's own (e.g. "https://app.example") whose pages may open a
   * WebSocket to the relay. Clients that send no Origin (not browsers) are always accepted.
   */
  allowedOrigins: readonly string[];
  /**
   * Origins at which browsers reach this relay (e.g. "https://relay.example"), for the web app's
   * Content-Security-Policy (its wss:// form joins 'self' in connect-src); also accepted as Origin.
   */
  publicOrigins: readonly string[];

  // Quotas (docs/relay-operations.md, "Quotas"): none needs a client identity.
  /** Most messages one queue holds at once; a send beyond it is refused `507 queue_full`. */
  maxQueueMessages: number;
  /** Most message bytes one queue holds at once; a send beyond it is refused `507 queue_full`. */
  maxQueueBytes: number;
  /** The same for a broadcast (group) queue, read by every member and kept until the TTL. */
  maxGroupQueueMessages: number;
  maxGroupQueueBytes: number;
  /**
   * New data (sends, queues, invites) is refused `507 storage_full` while the data directory's
   * filesystem has less free space than the larger of this many bytes and `minFreeDiskFraction` of
   * its size. Reads, acks and deletes go on. Checked only when the relay stores to a directory.
   */
  minFreeDiskBytes: number;
  /** See minFreeDiskBytes: a fraction of the filesystem's size (0.05 = 5%); 0 for none. */
  minFreeDiskFraction: number;
  /** New data is also refused while the database uses more than this many bytes; 0 for no limit. */
  maxDbBytes: number;
  /** How long a disk and database size reading is reused (a statfs per request would be wasteful). */
  storageCheckIntervalMs: number;
  /** Queue and invite creation need a proof-of-work stamp of this many bits; 0 turns it off. */
  powBits: number;
  /** A proof-of-work challenge is issued per window of this length and accepted for two windows. */
  powWindowMs: number;
  /** Largest file (plaintext bytes) whose blob the relay takes (`--max-file-mb`); 0 turns blobs off. */
  maxFileBytes: number;
  /**
   * Bytes promised to uploads in progress (declared and not yet received) across all blobs: a new
   * blob beyond it is refused `507 storage_full`, so a flood of large declarations cannot promise
   * more disk than there is.
   */
  maxPendingBlobBytes: number;
  /** How long an upload may take to complete before the blob is deleted. */
  blobUploadTtlMs: number;
  /** WebSocket commands one connection may send per second, on average (a token bucket)… */
  wsCommandRate: number;
  /** …and in one burst; beyond that a command is answered `err` `busy`. */
  wsCommandBurst: number;
}

const MIB = 1024 * 1024;

export const DEFAULT_CONFIG: RelayConfig = {
  ttlMs: 14 * DAY,
  inviteTtlMs: 7 * DAY,
  maxMessageBytes: DEFAULT_MAX_MESSAGE_BYTES,
  maxFetchBytes: FETCH_MAX_BYTES,
  sweepIntervalMs: 60 * 1000,
  timeGranularityMs: HOUR,
  heartbeatMs: 30 * 1000,
  staticDir: undefined,
  maxConnections: 4096,
  headersTimeoutMs: 10 * 1000,
  requestTimeoutMs: 120 * 1000,
  keepAliveTimeoutMs: 5 * 1000,
  idleTimeoutMs: 60 * 1000,
  shutdownGraceMs: 10 * 1000,
  replyBudgetBytes: 64 * 1024 * 1024,
  replyWaitMs: 10 * 1000,
  allowedOrigins: [],
  publicOrigins: [],
  maxQueueMessages: 10_000,
  maxQueueBytes: 256 * MIB,
  // A group of thousands at one message a second holds about 1.2 million within a 14-day TTL.
  maxGroupQueueMessages: 2_000_000,
  maxGroupQueueBytes: 8 * 1024 * MIB,
  minFreeDiskBytes: 1024 * MIB,
  minFreeDiskFraction: 0,
  maxDbBytes: 0,
  storageCheckIntervalMs: 2000,
  maxFileBytes: 100 * MIB,
  maxPendingBlobBytes: 4 * 1024 * MIB,
  blobUploadTtlMs: DAY,
  powBits: 0,
  powWindowMs: 2 * 60 * 1000,
  wsCommandRate: 1000,
  wsCommandBurst: 2000,
};

/** The most proof-of-work bits a relay may ask for (2^32 hashes is minutes of work already). */
export const MAX_POW_BITS = 32;

export class ConfigError extends Error {
  override name = "ConfigError";
}

export function resolveConfig(partial: Partial<RelayConfig> = {}): RelayConfig {
  const config: RelayConfig = { ...DEFAULT_CONFIG };
  for (const [key, value] of Object.entries(partial)) {
    if (value !== undefined) (config as unknown as Record<string, unknown>)[key] = value;
  }
  const positive = (name: keyof RelayConfig) => {
    const v = config[name];
    if (typeof v !== "number" || !Number.isFinite(v) || v <= 0) {
      throw new ConfigError(`${name} must be a positive number, got ${String(v)}`);
    }
  };
  positive("ttlMs");
  positive("inviteTtlMs");
  positive("maxFetchBytes");
  positive("timeGranularityMs");
  positive("heartbeatMs");
  positive("maxConnections");
  positive("headersTimeoutMs");
  positive("requestTimeoutMs");
  positive("keepAliveTimeoutMs");
  positive("idleTimeoutMs");
  positive("shutdownGraceMs");
  positive("replyBudgetBytes");
  positive("replyWaitMs");
  if (!Number.isInteger(config.maxConnections))
    throw new ConfigError("maxConnections must be a whole number");
  positive("maxQueueMessages");
  positive("maxQueueBytes");
  positive("maxGroupQueueMessages");
  positive("maxGroupQueueBytes");
  positive("powWindowMs");
  positive("wsCommandRate");
  positive("wsCommandBurst");
  const atLeastZero = (name: keyof RelayConfig) => {
    const v = config[name];
    if (typeof v !== "number" || !Number.isFinite(v) || v < 0) {
      throw new ConfigError(`${name} must be 0 or more, got ${String(v)}`);
    }
  };
  atLeastZero("minFreeDiskBytes");
  atLeastZero("maxDbBytes");
  atLeastZero("maxFileBytes");
  positive("maxPendingBlobBytes");
  positive("blobUploadTtlMs");
  atLeastZero("storageCheckIntervalMs");
  if (!(config.minFreeDiskFraction >= 0 && config.minFreeDiskFraction < 1)) {
    throw new ConfigError(
      `minFreeDiskFraction must be from 0 up to (not including) 1, got ${config.minFreeDiskFraction}`,
    );
  }
  if (!Number.isInteger(config.powBits) || config.powBits < 0 || config.powBits > MAX_POW_BITS) {
    throw new ConfigError(`powBits must be a whole number from 0 to ${MAX_POW_BITS}, got ${config.powBits}`);
  }
  if (config.wsCommandBurst < 1) throw new ConfigError("wsCommandBurst must be at least 1");
  // Node checks headersTimeout against requestTimeout; a request cannot outlive its own headers.
  if (config.headersTimeoutMs > config.requestTimeoutMs) {
    throw new ConfigError("headersTimeoutMs must not be more than requestTimeoutMs");
  }
  config.allowedOrigins = config.allowedOrigins.map((o) => normalizeOrigin(o, "allowedOrigins"));
  config.publicOrigins = config.publicOrigins.map((o) => normalizeOrigin(o, "publicOrigins"));
  if (!Number.isFinite(config.sweepIntervalMs) || config.sweepIntervalMs < 0) {
    throw new ConfigError("sweepIntervalMs must be 0 (off) or positive");
  }
  const smallest = PADDING_BUCKETS[0];
  if (
    !Number.isInteger(config.maxMessageBytes) ||
    config.maxMessageBytes < smallest ||
    config.maxMessageBytes > DEFAULT_MAX_MESSAGE_BYTES
  ) {
    throw new ConfigError(
      `maxMessageBytes must be between ${smallest} and ${DEFAULT_MAX_MESSAGE_BYTES}, got ${config.maxMessageBytes}`,
    );
  }
  // A queue must be able to hold at least one message of every size the relay accepts.
  if (config.maxQueueBytes < config.maxMessageBytes) {
    throw new ConfigError(
      `maxQueueBytes (${config.maxQueueBytes}) must be at least maxMessageBytes (${config.maxMessageBytes})`,
    );
  }
  return config;
}

export const daysToMs = (days: number): number => days * DAY;

/** `scheme://host[:port]` of an http(s) URL, lower-case, default port dropped; else a ConfigError. */
export function normalizeOrigin(value: string, what = "origin"): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`${what}: not a URL: ${value}`);
  }
  if ((url.protocol !== "http:" && url.protocol !== "https:") || url.username || url.password) {
    throw new ConfigError(`${what}: must be an http:// or https:// origin, got ${value}`);
  }
  if ((url.pathname !== "/" && url.pathname !== "") || url.search || url.hash) {
    throw new ConfigError(`${what}: an origin has no path, query or fragment: ${value}`);
  }
  return url.origin;
}
