import type { KeyValueStore, KvWrite } from "./key-value-store.js";

/** In-memory backend: tests and ephemeral sessions. */
export class MemoryKeyValueStore implements KeyValueStore {
  private readonly data = new Map<string, Uint8Array>();

  async get(key: string): Promise<Uint8Array | undefined> {
    return this.data.get(key);
  }

  async list(prefix: string, options: { limit?: number; reverse?: boolean } = {}) {
    const keys = [...this.data.keys()].filter((k) => k.startsWith(prefix)).sort();
    if (options.reverse) keys.reverse();
    const picked = options.limit === undefined ? keys : keys.slice(0, options.limit);
    return picked.map((k): [string, Uint8Array] => [k, this.data.get(k)!]);
  }

  async write(writes: KvWrite[]): Promise<void> {
    for (const w of writes) {
      if (w.value === null) this.data.delete(w.key);
      else this.data.set(w.key, w.value.slice());
    }
  }

  async close(): Promise<void> {}
}
