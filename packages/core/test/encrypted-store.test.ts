import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { nobleCryptoProvider as crypto } from "../src/crypto/noble-provider.js";
import { concatBytes, fromUtf8, utf8 } from "../src/encoding/bytes.js";
import {
  ENCRYPTED_STORE_META_KEY,
  EncryptedKeyValueStore,
  EncryptedStoreError,
  type KdfParams,
  type PassphraseKdf,
} from "../src/storage/encrypted-store.js";
import { MemoryKeyValueStore } from "../src/storage/memory-store.js";

/** A cheap stand-in for Argon2id (the web app passes the real one): what is tested here is the store. */
const testKdf: PassphraseKdf & { calls: KdfParams[] } = {
  algorithm: "argon2id",
  calls: [],
  async derive(passphrase, salt, params) {
    this.calls.push(params);
    return crypto.sha256(concatBytes(utf8(passphrase), salt, utf8(JSON.stringify(params))));
  },
};
const params: KdfParams = { memoryKiB: 64, iterations: 1, parallelism: 1 };

async function fresh(passphrase = "correct horse battery staple") {
  const inner = new MemoryKeyValueStore();
  const store = await EncryptedKeyValueStore.create(inner, crypto, testKdf, passphrase, params);
  return { inner, store };
}

describe("EncryptedKeyValueStore", () => {
  it("round-trips values and stores only ciphertext underneath", async () => {
    const { inner, store } = await fresh();
    await store.write([
      { key: "profile", value: utf8('{"name":"Alice"}') },
      { key: "msg/c1/002", value: utf8("second") },
      { key: "msg/c1/001", value: utf8("first") },
    ]);
    assert.equal(fromUtf8((await store.get("profile"))!), '{"name":"Alice"}');
    const raw = await inner.get("profile");
    assert.ok(raw);
    assert.ok(!Buffer.from(raw).toString("latin1").includes("Alice"), "the backend holds ciphertext");
    assert.equal(raw.length, 24 + '{"name":"Alice"}'.length + 16, "nonce ‖ ciphertext ‖ tag");
    assert.deepEqual(
      (await store.list("msg/c1/")).map(([k, v]) => [k, fromUtf8(v)]),
      [
        ["msg/c1/001", "first"],
        ["msg/c1/002", "second"],
      ],
    );
    assert.deepEqual(
      (await store.list("msg/c1/", { reverse: true, limit: 1 })).map(([k]) => k),
      ["msg/c1/002"],
    );
    await store.write([{ key: "msg/c1/001", value: null }]);
    assert.equal(await store.get("msg/c1/001"), undefined);
  });

  it("hides its reserved header from listings, limits included", async () => {
    const { store } = await fresh();
    await store.write([{ key: "a", value: utf8("1") }]);
    assert.deepEqual(
      (await store.list("")).map(([k]) => k),
      ["a"],
    );
    assert.deepEqual(
      (await store.list("", { limit: 1 })).map(([k]) => k),
      ["a"],
    );
    await assert.rejects(
      store.write([{ key: ENCRYPTED_STORE_META_KEY, value: utf8("x") }]),
      EncryptedStoreError,
    );
  });

  it("unlocks with the right passphrase after a restart, keeping the KDF parameters it was made with", async () => {
    const { inner, store } = await fresh("pass phrase");
    await store.write([{ key: "k", value: utf8("v") }]);
    testKdf.calls.length = 0;
    const again = await EncryptedKeyValueStore.unlock(inner, crypto, testKdf, "pass phrase");
    assert.deepEqual(testKdf.calls, [params]);
    assert.equal(fromUtf8((await again.get("k"))!), "v");
    assert.equal(await EncryptedKeyValueStore.exists(inner), true);
    assert.equal(await EncryptedKeyValueStore.exists(new MemoryKeyValueStore()), false);
  });

  it("refuses a wrong passphrase with a clear error, before reading anything", async () => {
    const { inner, store } = await fresh("right");
    await store.write([{ key: "k", value: utf8("v") }]);
    let reads = 0;
    const counting = {
      ...inner,
      get: (key: string) => {
        if (key !== ENCRYPTED_STORE_META_KEY) reads++;
        return inner.get(key);
      },
      list: (...args: Parameters<typeof inner.list>) => {
        reads++;
        return inner.list(...args);
      },
      write: inner.write.bind(inner),
      durable: inner.durable.bind(inner),
      close: inner.close.bind(inner),
    };
    await assert.rejects(
      EncryptedKeyValueStore.unlock(counting, crypto, testKdf, "wrong"),
      (e: unknown) =>
        e instanceof EncryptedStoreError && e.code === "wrong_passphrase" && e.message === "wrong passphrase",
    );
    assert.equal(reads, 0);
  });

  it("rejects a tampered value, and a value moved to another key", async () => {
    const { inner, store } = await fresh();
    await store.write([
      { key: "contact/a", value: utf8("Alice") },
      { key: "contact/b", value: utf8("Bob") },
    ]);
    const raw = (await inner.get("contact/a"))!.slice();
    raw[raw.length - 1]! ^= 1;
    await inner.write([{ key: "contact/a", value: raw }]);
    await assert.rejects(
      store.get("contact/a"),
      (e: unknown) => e instanceof EncryptedStoreError && e.code === "tampered",
    );
    await assert.rejects(
      store.list("contact/"),
      (e: unknown) => e instanceof EncryptedStoreError && e.code === "tampered",
    );

    await inner.write([{ key: "contact/a", value: (await inner.get("contact/b"))! }]);
    await assert.rejects(
      store.get("contact/a"),
      (e: unknown) => e instanceof EncryptedStoreError && e.code === "tampered",
    );
  });

  it("rejects a tampered verifier as a wrong passphrase and a tampered header as corrupt", async () => {
    const { inner } = await fresh("p");
    const meta = JSON.parse(fromUtf8((await inner.get(ENCRYPTED_STORE_META_KEY))!));
    await inner.write([
      {
        key: ENCRYPTED_STORE_META_KEY,
        value: utf8(JSON.stringify({ ...meta, salt: "AAAAAAAAAAAAAAAAAAAAAA" })),
      },
    ]);
    await assert.rejects(
      EncryptedKeyValueStore.unlock(inner, crypto, testKdf, "p"),
      (e: unknown) => e instanceof EncryptedStoreError && e.code === "wrong_passphrase",
    );
    await inner.write([
      { key: ENCRYPTED_STORE_META_KEY, value: utf8(JSON.stringify({ ...meta, memoryKiB: 1e12 })) },
    ]);
    await assert.rejects(
      EncryptedKeyValueStore.unlock(inner, crypto, testKdf, "p"),
      (e: unknown) => e instanceof EncryptedStoreError && e.code === "corrupt",
    );
  });

  it("locks (every call then fails) and wipes everything", async () => {
    const { inner, store } = await fresh();
    await store.write([{ key: "k", value: utf8("v") }]);
    store.lock();
    assert.equal(store.locked, true);
    await assert.rejects(
      store.get("k"),
      (e: unknown) => e instanceof EncryptedStoreError && e.code === "locked",
    );
    await assert.rejects(
      store.write([]),
      (e: unknown) => e instanceof EncryptedStoreError && e.code === "locked",
    );

    const again = await EncryptedKeyValueStore.unlock(inner, crypto, testKdf, "correct horse battery staple");
    await again.wipe();
    assert.deepEqual(await inner.list(""), []);
    assert.equal(await EncryptedKeyValueStore.exists(inner), false);
    assert.equal(again.locked, true);
  });

  it("will not set up twice over an existing store, nor with an empty passphrase", async () => {
    const { inner } = await fresh();
    await assert.rejects(
      EncryptedKeyValueStore.create(inner, crypto, testKdf, "x", params),
      (e: unknown) => e instanceof EncryptedStoreError && e.code === "exists",
    );
    await assert.rejects(
      EncryptedKeyValueStore.create(new MemoryKeyValueStore(), crypto, testKdf, "", params),
    );
  });
});
