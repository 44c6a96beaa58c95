import type { KeyValueStore, KvWrite } from "./key-value-store.js";
import { TextIndex } from "./text-search.js";

/**
 * In-memory backend: tests and ephemeral sessions. Values are copied in and out, as a real backend
 * stores bytes rather than the caller's buffer (storage/contract.ts checks it for every backend).
 */
export class MemoryKeyValueStore implements KeyValueStore {
  private readonly data = new Map<string, Uint8Array>();
  private readonly texts = new TextIndex();
  private closed = false;

  async get(key: string): Promise<Uint8Array | undefined> {
    this.checkOpen();
    return this.data.get(key)?.slice();
  }

  async list(prefix: string, options: { limit?: number; reverse?: boolean } = {}) {
    this.checkOpen();
    const keys = [...this.data.keys()].filter((k) => k.startsWith(prefix)).sort();
    if (options.reverse) keys.reverse();
    const picked = options.limit === undefined ? keys : keys.slice(0, options.limit);
    return picked.map((k): [string, Uint8Array] => [k, this.data.get(k)!.slice()]);
  }

  async write(writes: KvWrite[]): Promise<void> {
    this.checkOpen();
    for (const w of writes) {
      if (w.value === null) this.data.delete(w.key);
      else this.data.set(w.key, w.value.slice());
      this.texts.apply(w.key, w.value === null, w.text);
    }
  }

  async search(prefix: string, query: string, limit: number): Promise<string[]> {
    this.checkOpen();
    return this.texts.search(prefix, query, limit);
  }

  /** Nothing to wait for: memory does not survive a power cut, or anything else. */
  async durable(): Promise<void> {}

  async close(): Promise<void> {
    this.closed = true;
  }

  private checkOpen(): void {
    if (this.closed) throw new Error("the store is closed");
  }
}
