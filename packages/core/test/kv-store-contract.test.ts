/** The key-value store contract (src/storage/contract.ts) against core's backends: memory, and encrypted over memory. */
import { describe, it } from "node:test";
import { nobleCryptoProvider as crypto } from "../src/crypto/noble-provider.js";
import { concatBytes, utf8 } from "../src/encoding/bytes.js";
import { EncryptedKeyValueStore, type PassphraseKdf } from "../src/storage/encrypted-store.js";
import type { KeyValueStore } from "../src/storage/key-value-store.js";
import { MemoryKeyValueStore } from "../src/storage/memory-store.js";
import { keyValueStoreContract, searchContract } from "../src/testing.js";

/** A cheap stand-in for Argon2id: what is tested here is the store. */
const testKdf: PassphraseKdf = {
  algorithm: "argon2id",
  async derive(passphrase, salt, params) {
    return crypto.sha256(concatBytes(utf8(passphrase), salt, utf8(JSON.stringify(params))));
  },
};
const params = { memoryKiB: 64, iterations: 1, parallelism: 1 };

function contract(
  backend: string,
  open: () => Promise<KeyValueStore>,
  reopen?: (s: KeyValueStore) => Promise<KeyValueStore>,
) {
  describe(`KeyValueStore contract: ${backend}`, () => {
    for (const c of [...keyValueStoreContract, ...searchContract]) it(c.name, () => c.run(open, reopen));
  });
}

contract("memory", async () => new MemoryKeyValueStore());

// Reopening: the same inner store (kept open underneath), unlocked again with the passphrase.
const inners = new WeakMap<KeyValueStore, MemoryKeyValueStore>();
contract(
  "encrypted over memory",
  async () => {
    const inner = new MemoryKeyValueStore();
    const store = await EncryptedKeyValueStore.create(unclosable(inner), crypto, testKdf, "pass", params);
    inners.set(store, inner);
    return store;
  },
  async (store) => {
    const inner = inners.get(store)!;
    await store.close();
    return EncryptedKeyValueStore.unlock(unclosable(inner), crypto, testKdf, "pass");
  },
);

/** The inner store as seen by one encrypted store: closing it leaves the data for the next unlock. */
function unclosable(inner: MemoryKeyValueStore): KeyValueStore {
  return {
    get: (k) => inner.get(k),
    list: (p, o) => inner.list(p, o),
    write: (w) => inner.write(w),
    durable: () => inner.durable(),
    close: async () => {},
  };
}
