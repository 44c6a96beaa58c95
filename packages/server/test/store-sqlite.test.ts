import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import Database from "better-sqlite3";
import { SchemaError, SqliteStore } from "../src/index.js";
import { newKey, tempDir } from "./helpers.js";
import { storeContract } from "./store-contract.js";

storeContract("SQLite (file)", async (t) => {
  const store = SqliteStore.open(join(tempDir(t), "relay.sqlite"));
  t.after(() => store.close());
  return store;
});

describe("SqliteStore specifics", () => {
  it("keeps data across close and reopen, in WAL mode", async (t) => {
    const path = join(tempDir(t), "relay.sqlite");
    const first = SqliteStore.open(path);
    const q = await first.createQueue(newKey().publicKey, Date.now() + 1e6);
    const m = await first.enqueue(q.sendId, new Uint8Array(512).fill(9), Date.now() + 1e6);
    await first.close();

    const raw = new Database(path, { readonly: true });
    assert.equal(raw.pragma("journal_mode", { simple: true }), "wal");
    assert.equal(raw.pragma("user_version", { simple: true }), 2);
    raw.close();

    const second = SqliteStore.open(path);
    t.after(() => second.close());
    const pending = await second.fetchPending(q.queueId, { limit: 10 });
    assert.equal(pending.length, 1);
    assert.equal(pending[0]!.msgId, m!.msgId);
    assert.deepEqual(Buffer.from(pending[0]!.body), Buffer.alloc(512, 9));
  });

  it("stores only ids, keys, bodies, expiry times and the queue mode: no other columns", async (t) => {
    const path = join(tempDir(t), "relay.sqlite");
    (await SqliteStore.open(path)).close();
    const raw = new Database(path, { readonly: true });
    t.after(() => raw.close());
    const columns = (table: string) =>
      (raw.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((c) => c.name);
    const tables = (
      raw.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as {
        name: string;
      }[]
    ).map((r) => r.name);
    assert.deepEqual(tables, ["invites", "messages", "nonces", "queues"]);
    assert.deepEqual(columns("queues"), ["queue_id", "send_id", "recipient_key", "idle_until", "broadcast"]);
    assert.deepEqual(columns("messages"), ["queue_id", "seq", "msg_id", "body", "expires_at"]);
    assert.deepEqual(columns("invites"), ["invite_id", "blob", "expires_at"]);
    assert.deepEqual(columns("nonces"), ["scope", "nonce", "expires_at"]);
  });

  it("opens read-only without creating or migrating anything", async (t) => {
    const dir = tempDir(t);
    const missing = join(dir, "none.sqlite");
    assert.throws(() => SqliteStore.open(missing, { readonly: true }));
    assert.equal(existsSync(missing), false);

    const path = join(dir, "relay.sqlite");
    const writer = SqliteStore.open(path);
    const q = await writer.createQueue(newKey().publicKey, 1);
    const reader = SqliteStore.open(path, { readonly: true });
    assert.equal((await reader.disclose(q.queueId)).queues.length, 1);
    await assert.rejects(reader.createQueue(newKey().publicKey, 1));
    await reader.close();
    await writer.close();
  });

  it("refuses a database from a newer relay", (t) => {
    const path = join(tempDir(t), "relay.sqlite");
    const raw = new Database(path);
    raw.pragma("user_version = 99");
    raw.close();
    assert.throws(() => SqliteStore.open(path), SchemaError);
    assert.throws(() => SqliteStore.open(path, { readonly: true }), SchemaError);
  });
});
