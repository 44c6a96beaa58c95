import assert from "node:assert/strict";
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import Database from "better-sqlite3";
import { SchemaError, SqliteStore } from "../src/index.js";
import { migrate } from "../src/store/sqlite/migrate.js";
import { migrations } from "../src/store/sqlite/migrations/index.js";
import { newKey, stored, tempDir } from "./helpers.js";
import { storeContract } from "./store-contract.js";

const walSize = (path: string): number => (existsSync(`${path}-wal`) ? statSync(`${path}-wal`).size : 0);

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
    const m = await stored(first.enqueue(q.sendId, new Uint8Array(512).fill(9), Date.now() + 1e6));
    await first.close();

    const raw = new Database(path, { readonly: true });
    assert.equal(raw.pragma("journal_mode", { simple: true }), "wal");
    assert.equal(raw.pragma("user_version", { simple: true }), 4);
    raw.close();

    const second = SqliteStore.open(path);
    t.after(() => second.close());
    const pending = await second.fetchPending(q.queueId, { limit: 10 });
    assert.equal(pending.length, 1);
    assert.equal(pending[0]!.msgId, m.msgId);
    assert.deepEqual(Buffer.from(pending[0]!.body), Buffer.alloc(512, 9));
  });

  it("stores only ids, keys, bodies, expiry times, the queue mode, positions and pending counts: no other columns", async (t) => {
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
      "msg_count",
      "msg_bytes",
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
    const next = await stored(store.enqueue("heldSend", new Uint8Array(512), 900));
    assert.equal(await store.positionOf("held", next.msgId), 1002, "after the positions held before");
  });

  it("migrates a version-3 database: each queue's pending counts are those of the messages it holds", async (t) => {
    const path = join(tempDir(t), "relay.sqlite");
    const old = new Database(path);
    migrate(old, migrations.slice(0, 3));
    const insertQueue = old.prepare(
      "INSERT INTO queues (queue_id, send_id, recipient_key, idle_until) VALUES (?, ?, 'key', ?)",
    );
    const far = Date.now() + 1e8;
    insertQueue.run("held", "heldSend", far);
    insertQueue.run("empty", "emptySend", far);
    const insertMessage = old.prepare(
      "INSERT INTO messages (queue_id, seq, msg_id, body, expires_at) VALUES ('held', ?, ?, ?, ?)",
    );
    insertMessage.run(1, "m1", Buffer.alloc(512), far);
    insertMessage.run(2, "m2", Buffer.alloc(2048), far);
    old.close();

    const store = SqliteStore.open(path);
    t.after(() => store.close());
    assert.deepEqual(await store.queueUsage("held"), { messages: 2, bytes: 2560 });
    assert.deepEqual(await store.queueUsage("empty"), { messages: 0, bytes: 0 });
    assert.equal(await store.ack("held", "m2"), true);
    assert.deepEqual(await store.queueUsage("held"), { messages: 1, bytes: 512 });
  });

  it("gives the space of deleted data back to the filesystem: the file shrinks", async (t) => {
    const path = join(tempDir(t), "relay.sqlite");
    const store = SqliteStore.open(path);
    t.after(() => store.close());
    const q = await store.createQueue(newKey().publicKey, Date.now() + 1e8);
    const keep = await store.createQueue(newKey().publicKey, Date.now() + 1e8);
    await stored(store.enqueue(keep.sendId, new Uint8Array(65536).fill(1), Date.now() + 1e8));
    for (let i = 0; i < 200; i++)
      await stored(store.enqueue(q.sendId, new Uint8Array(65536).fill(2), Date.now() + 1e8));
    assert.equal(await store.compact(), 0, "nothing freed yet");
    const full = statSync(path).size + walSize(path);
    assert.ok(full > 200 * 65536, `file holds the messages (${full} bytes)`);

    assert.equal(await store.deleteQueue(q.queueId), true);
    const released = await store.compact();
    assert.ok(released >= 190 * 65536, `released ${released} bytes`);
    const after = statSync(path).size + walSize(path);
    assert.ok(after < full / 10, `the file shrank from ${full} to ${after} bytes`);
    assert.equal((await store.fetchPending(keep.queueId, { limit: 10 })).length, 1, "the rest is intact");
  });

  it("converts an existing database to incremental auto-vacuum once, keeping its data", async (t) => {
    const path = join(tempDir(t), "relay.sqlite");
    const old = new Database(path);
    old.pragma("journal_mode = WAL");
    migrate(old, migrations);
    old
      .prepare(
        "INSERT INTO queues (queue_id, send_id, recipient_key, idle_until) VALUES ('q', 's', 'key', ?)",
      )
      .run(Date.now() + 1e8);
    assert.equal(old.pragma("auto_vacuum", { simple: true }), 0);
    old.close();

    const store = SqliteStore.open(path);
    assert.ok(await store.getQueue("q"));
    await store.close();
    const raw = new Database(path, { readonly: true });
    t.after(() => raw.close());
    assert.equal(raw.pragma("auto_vacuum", { simple: true }), 2, "INCREMENTAL");
    assert.equal(raw.pragma("journal_mode", { simple: true }), "wal");
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
