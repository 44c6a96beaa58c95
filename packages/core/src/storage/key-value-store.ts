/**
 * The local store seam. A device keeps everything (identity, contacts, MLS state, history) in one
 * ordered key-value store; core builds typed repositories on top. Backends: memory (tests),
 * SQLite (CLI, packages/cli), IndexedDB (browser, packages/web). A backend that encrypts at rest
 * wraps another one (see encrypted-store.ts) — the layout above it does not change.
 *
 * Keys are strings ordered by plain comparison, so zero-padded numbers sort correctly. The keys core
 * writes are ASCII, where every backend agrees on the order; beyond U+D7FF backends may order
 * differently (UTF-16 code units in IndexedDB, UTF-8 bytes in SQLite), but every key is listed
 * under its prefix (storage/contract.ts).
 */
export interface KvWrite {
  key: string;
  /** `null` deletes the key (and its searchable text). */
  value: Uint8Array | null;
  /**
   * The entry's searchable text, for `search` (a message's words): a string replaces what it had,
   * `null` takes it away; absent leaves it as it is. Backends without `search` ignore it. Never
   * stored in the clear where values are not (an encrypting backend seals it like a value).
   */
  text?: string | null;
}

export interface KeyValueStore {
  get(key: string): Promise<Uint8Array | undefined>;
  /** All entries whose key starts with `prefix`, in key order. With `reverse`, newest (largest key) first; `limit` caps the count. */
  list(prefix: string, options?: { limit?: number; reverse?: boolean }): Promise<[string, Uint8Array][]>;
  /**
   * Applies all writes atomically: either every one lands or none does. Once it resolves, the
   * writes survive the process being killed; surviving a power cut may take until `durable`.
   */
  write(writes: KvWrite[]): Promise<void>;
  /**
   * Resolves once every write that resolved before this call would survive a power cut. The client
   * waits for it before anything leaves the device that depends on what it wrote (client/context.ts:
   * relay requests, every acknowledgement): a sealed message is never on the relay while the
   * ratchet step that sealed it could still be lost (or a reservation covering it is on disk:
   * client/sending-ahead.ts), nor a message acknowledged that could. Many writes share one wait
   * (one fsync), instead of each write waiting for its own.
   */
  durable(): Promise<void>;
  /**
   * Keys under `prefix` whose searchable text (KvWrite.text) contains `query`, largest key first,
   * at most `limit`. Both sides are compared as `searchForm` makes them (storage/text-search.ts):
   * case and width do not matter, and any substring is found (Chinese has no spaces to split on).
   * Optional: a backend without it cannot search (the client says so).
   */
  search?(prefix: string, query: string, limit: number): Promise<string[]>;
  close(): Promise<void>;
}
