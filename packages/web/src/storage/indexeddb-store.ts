/**
 * The browser backend of core's KeyValueStore: one IndexedDB database with one object store whose
 * keys are the store's string keys (IndexedDB orders strings by code unit, as the interface asks).
 * The app wraps it in core's EncryptedKeyValueStore, so what lands here is ciphertext.
 */
import type { KeyValueStore, KvWrite } from "@parley/core";

const OBJECT_STORE = "kv";
export const DEFAULT_DATABASE = "parley";

function promisify<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error ?? new Error("IndexedDB request failed"));
  });
}

function done(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error ?? new Error("IndexedDB transaction failed"));
    tx.onabort = () => reject(tx.error ?? new Error("IndexedDB transaction aborted"));
  });
}

/** The smallest string greater than every string starting with `prefix` (for an IDBKeyRange bound). */
function prefixUpperBound(prefix: string): string {
  return `${prefix}\uffff`;
}

function rangeFor(prefix: string): IDBKeyRange | undefined {
  if (prefix === "") return undefined;
  // "\uffff" cannot start a key the core writes (keys are ASCII), so [prefix, prefix+"\uffff") is exact.
  return IDBKeyRange.bound(prefix, prefixUpperBound(prefix), false, true);
}

export class IndexedDbKeyValueStore implements KeyValueStore {
  private constructor(
    private readonly db: IDBDatabase,
    readonly name: string,
  ) {}

  static async open(name = DEFAULT_DATABASE): Promise<IndexedDbKeyValueStore> {
    const request = indexedDB.open(name, 1);
    request.onupgradeneeded = () => {
      if (!request.result.objectStoreNames.contains(OBJECT_STORE))
        request.result.createObjectStore(OBJECT_STORE);
    };
    const db = await promisify(request);
    return new IndexedDbKeyValueStore(db, name);
  }

  /** Deletes the whole database from this browser. Close every open store of it first. */
  static deleteDatabase(name = DEFAULT_DATABASE): Promise<void> {
    return new Promise((resolve, reject) => {
      const request = indexedDB.deleteDatabase(name);
      request.onsuccess = () => resolve();
      request.onerror = () => reject(request.error ?? new Error("could not delete the IndexedDB database"));
      // Another tab still holds it open: the deletion completes when that tab lets go.
      request.onblocked = () => resolve();
    });
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const tx = this.db.transaction(OBJECT_STORE, "readonly");
    const value = await promisify(tx.objectStore(OBJECT_STORE).get(key));
    return value === undefined ? undefined : toBytes(value);
  }

  async list(
    prefix: string,
    options: { limit?: number; reverse?: boolean } = {},
  ): Promise<[string, Uint8Array][]> {
    const { limit, reverse = false } = options;
    if (limit !== undefined && limit <= 0) return [];
    const tx = this.db.transaction(OBJECT_STORE, "readonly");
    const request = tx.objectStore(OBJECT_STORE).openCursor(rangeFor(prefix), reverse ? "prev" : "next");
    const out: [string, Uint8Array][] = [];
    await new Promise<void>((resolve, reject) => {
      request.onerror = () => reject(request.error ?? new Error("IndexedDB cursor failed"));
      request.onsuccess = () => {
        const cursor = request.result;
        if (!cursor) return resolve();
        const key = cursor.key as string;
        if (key.startsWith(prefix)) out.push([key, toBytes(cursor.value)]);
        if (limit !== undefined && out.length >= limit) return resolve();
        cursor.continue();
      };
    });
    return out;
  }

  /** One readwrite transaction: IndexedDB commits all of it or, on any error, none of it. */
  async write(writes: KvWrite[]): Promise<void> {
    if (writes.length === 0) return;
    const tx = this.db.transaction(OBJECT_STORE, "readwrite", { durability: "strict" });
    const finished = done(tx);
    const store = tx.objectStore(OBJECT_STORE);
    try {
      for (const w of writes) {
        if (w.value === null) store.delete(w.key);
        else store.put(w.value.slice(), w.key);
      }
    } catch (e) {
      tx.abort();
      // The abort rejects `finished` ("AbortError"); wait for it only so that nothing is half-written,
      // and throw the error that caused the abort, which says what went wrong.
      await finished.catch(() => undefined);
      throw e;
    }
    await finished;
  }

  /**
   * A transaction's data is committed when its `complete` fires (write waits for it); how soon the
   * browser forces it to disk is the browser's choice, and there is nothing more to wait for here.
   */
  async durable(): Promise<void> {}

  async close(): Promise<void> {
    this.db.close();
  }
}

function toBytes(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  throw new Error("IndexedDB holds a value that is not bytes");
}
