/** The key-value store contract (@parley/core/testing) against the SQLite backend, reopened from its file. */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import type { KeyValueStore } from "@parley/core";
import { keyValueStoreContract, searchContract } from "@parley/core/testing";
import Database from "better-sqlite3";
import { SqliteKeyValueStore } from "../src/index.js";

const dir = mkdtempSync(join(tmpdir(), "parley-node-contract-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const paths = new WeakMap<KeyValueStore, string>();
let n = 0;

describe("KeyValueStore contract: SQLite", () => {
  for (const c of [...keyValueStoreContract, ...searchContract]) {
    it(c.name, () =>
      c.run(
        async () => {
          const path = join(dir, `kv-${n++}.sqlite`);
          const store = new SqliteKeyValueStore(path);
          paths.set(store, path);
          return store;
        },
        async (store) => {
          await store.close();
          return new SqliteKeyValueStore(paths.get(store)!);
        },
      ),
    );
  }
});

describe("SqliteKeyValueStore: records table", () => {
  const tableSql = (path: string) => {
    const db = new Database(path, { readonly: true });
    try {
      return db.prepare<[], { sql: string }>("SELECT sql FROM sqlite_master WHERE name = 'kv'").get()!.sql;
    } finally {
      db.close();
    }
  };

  it("keeps records in a rowid table, so a large record is not part of the key index", async () => {
    const path = join(dir, "rowid.sqlite");
    const store = new SqliteKeyValueStore(path);
    await store.close();
    assert.doesNotMatch(tableSql(path), /WITHOUT\s+ROWID/i);
  });

  it("moves a profile's records from the earlier WITHOUT ROWID table, every one, in key order", async () => {
    const path = join(dir, "earlier.sqlite");
    const big = new Uint8Array(3 * 1024 * 1024).map((_, i) => i % 251);
    const old = new Database(path);
    old.pragma("journal_mode = WAL");
    old.exec("CREATE TABLE kv (key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID");
    const put = old.prepare("INSERT INTO kv (key, value) VALUES (?, ?)");
    for (let i = 0; i < 300; i++) put.run(`contact/${String(i).padStart(3, "0")}`, Buffer.from([i % 256]));
    put.run("mls/large", Buffer.from(big));
    old.close();

    const store = new SqliteKeyValueStore(path);
    assert.doesNotMatch(tableSql(path), /WITHOUT\s+ROWID/i);
    const contacts = await store.list("contact/");
    assert.equal(contacts.length, 300);
    assert.deepEqual(
      contacts.map(([k]) => k),
      contacts.map(([k]) => k).sort(),
    );
    assert.deepEqual([...contacts[7]![1]], [7]);
    assert.deepEqual(await store.get("mls/large"), big);
    // Writes and upserts work on the new table, and survive a reopen.
    await store.write([
      { key: "contact/007", value: new Uint8Array([70]) },
      { key: "contact/000", value: null },
    ]);
    await store.close();
    const again = new SqliteKeyValueStore(path);
    assert.deepEqual(await again.get("contact/007"), new Uint8Array([70]));
    assert.equal(await again.get("contact/000"), undefined);
    assert.equal((await again.list("contact/")).length, 299);
    await again.close();
  });
});
