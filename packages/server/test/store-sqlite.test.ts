import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import Database from "better-sqlite3";
import { SchemaError, SqliteStore } from "../src/index.js";
import { migrate } from "../src/store/sqlite/migrate.js";
import { migrations } from "../src/store/sqlite/migrations/index.js";
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
    assert.equal(raw.pragma("user_version", { simple: true }), 3);
    raw.close();

    const second = SqliteStore.open(path);
    t.after(() => second.close());
    const pending = await second.fetchPending(q.queueId, { limit: 10 });
    assert.equal(pending.length, 1);
    assert.equal(pending[0]!.msgId, m!.msgId);
    assert.deepEqual(Buffer.from(pending[0]!.body), Buffer.alloc(512, 9));
  });

  it("stores only ids, keys, bodies, expiry times, the queue mode and positions: no other columns", async (t) => {
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
    assert.deepEqual(columns("queues"), [
      "queue_id",
      "send_id",
      "recipient_key",
      "idle_until",
      "broadcast",
      "last_seq",
    ]);
    assert.deepEqual(columns("messages"), ["queue_id", "seq", "msg_id", "body", "expires_at"]);
    assert.deepEqual(columns("invites"), ["invite_id", "blob", "expires_at"]);
    assert.deepEqual(columns("nonces"), ["scope", "nonce", "expires_at"]);
  });

  it("migrates a version-2 database: each queue's last position is the largest it holds", async (t) => {
    const path = join(tempDir(t), "relay.sqlite");
    const old = new Database(path);
    migrate(old, migrations.slice(0, 2));
    const insertQueue = old.prepare(
      "INSERT INTO queues (queue_id, send_id, recipient_key, idle_until) VALUES (?, ?, 'key', ?)",
    );
    const far = Date.now() + 1e8;
    insertQueue.run("held", "heldSend", far);
    insertQueue.run("empty", "emptySend", far);
    const insertMessage = old.prepare(
      "INSERT INTO messages (queue_id, seq, msg_id, body, expires_at) VALUES ('held', ?, ?, x'00', ?)",
    );
    insertMessage.run(1000, "m1", 900);
    insertMessage.run(1001, "m2", 900);
    old.close();

    const store = SqliteStore.open(path);
    t.after(() => store.close());
    assert.equal((await store.disclose("held")).queues[0]!.lastSeq, 1001);
    assert.equal((await store.disclose("empty")).queues[0]!.lastSeq, 0);
    assert.equal(await store.ack("held", "m1"), true);
    assert.equal(await store.ack("held", "m2"), true);
    const next = (await store.enqueue("heldSend", new Uint8Array(512), 900))!;
    assert.equal(await store.positionOf("held", next.msgId), 1002, "after the positions held before");
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
