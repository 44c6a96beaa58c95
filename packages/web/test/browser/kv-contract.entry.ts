/**
 * Runs core's key-value store contract against IndexedDbKeyValueStore inside the browser. Bundled
 * by test/kv-contract-browser.test.ts (Vite, library mode) into a page of its own: test code never
 * enters the app's bundle.
 */
import { keyValueStoreContract } from "@parley/core/testing";
import { IndexedDbKeyValueStore } from "../../src/storage/indexeddb-store.js";

let n = 0;
const names = new WeakMap<object, string>();

async function open(): Promise<IndexedDbKeyValueStore> {
  const name = `contract-${n++}`;
  await IndexedDbKeyValueStore.deleteDatabase(name);
  const store = await IndexedDbKeyValueStore.open(name);
  names.set(store, name);
  return store;
}

async function reopen(store: IndexedDbKeyValueStore): Promise<IndexedDbKeyValueStore> {
  await store.close();
  return IndexedDbKeyValueStore.open(names.get(store)!);
}

export interface CaseResult {
  name: string;
  error: string | null;
}

(window as unknown as { runKvContract: () => Promise<CaseResult[]> }).runKvContract = async () => {
  const results: CaseResult[] = [];
  for (const c of keyValueStoreContract) {
    try {
      await c.run(open, reopen as (s: unknown) => Promise<IndexedDbKeyValueStore>);
      results.push({ name: c.name, error: null });
    } catch (e) {
      results.push({ name: c.name, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
    }
  }
  return results;
};
