import assert from "node:assert/strict";
import { existsSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import Database from "better-sqlite3";
import { SchemaError, SqliteStore } from "../src/index.js";
import { BodyPool } from "../src/relay/body-pool.js";
import { migrate } from "../src/store/sqlite/migrate.js";
import { migrations } from "../src/store/sqlite/migrations/index.js";
import { INLINE_BODY_MAX_BYTES, PAGE_SIZE } from "../src/store/sqlite/sqlite-store.js";
import { newKey, stored, tempDir } from "./helpers.js";
import { storeContract } from "./store-contract.js";

const walSize = (path: string): number => (existsSync(`${path}-wal`) ? statSync(`${path}-wal`).size : 0);

storeContract("SQLite (file)", async (t) => {
  const store = SqliteStore.open(join(tempDir(t), "relay.sqlite"));
  t.after(() => store.close());
  return store;
});

// The same contract with every non-empty body in its own file beside the database.
storeContract(
  "SQLite (file, bodies in files)",
  async (t) => {
    const store = SqliteStore.open(join(tempDir(t), "relay.sqlite"), { inlineBodyMaxBytes: 0 });
    t.after(() => store.close());
    return store;
  },
  { inlineBodies: false },
);

describe("SqliteStore: large bodies in files", () => {
  const far = () => Date.now() + 1e8;
  const big = (fill: number) => new Uint8Array(INLINE_BODY_MAX_BYTES + 1).fill(fill);
  const files = (dir: string) =>
    existsSync(join(dir, "relay-bodies")) ? readdirSync(join(dir, "relay-bodies")) : [];

  it("keeps a body over the inline limit in a file, not in the database, and deletes it with its message", async (t) => {
    const dir = tempDir(t);
    const store = SqliteStore.open(join(dir, "relay.sqlite"));
    t.after(() => store.close());
    const q = await store.createQueue(newKey().publicKey, far());
    const small = await stored(store.enqueue(q.sendId, new Uint8Array(INLINE_BODY_MAX_BYTES).fill(1), far()));
    const large = await stored(store.enqueue(q.sendId, big(2), far()));
    assert.equal(files(dir).length, 1, "one file: the large body only");
    const file = join(dir, "relay-bodies", files(dir)[0]!);
    assert.equal(statSync(file).size, INLINE_BODY_MAX_BYTES + 1);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, "relay-bodies")).mode & 0o777, 0o700);

    const pending = await store.fetchPending(q.queueId, { limit: 10 });
    assert.deepEqual(
      pending.map((m) => [m.msgId, m.body.length, m.body[0]]),
      [
        [small.msgId, INLINE_BODY_MAX_BYTES, 1],
        [large.msgId, INLINE_BODY_MAX_BYTES + 1, 2],
      ],
    );
    assert.deepEqual(await store.queueUsage(q.queueId), {
      messages: 2,
      bytes: 2 * INLINE_BODY_MAX_BYTES + 1,
    });
    const db = new Database(join(dir, "relay.sqlite"), { readonly: true });
    const row = db
      .prepare("SELECT length(body) AS inline, size FROM messages WHERE msg_id = ?")
      .get(large.msgId);
    db.close();
    assert.deepEqual(row, { inline: 0, size: INLINE_BODY_MAX_BYTES + 1 });

    assert.equal(await store.ack(q.queueId, large.msgId), true);
    await store.close(); // waits for the file's deletion
    assert.deepEqual(files(dir), []);
  });

  it("counts bodies in files in storageBytes, and stops counting them once they are deleted", async (t) => {
    const dir = tempDir(t);
    const store = SqliteStore.open(join(dir, "relay.sqlite"));
    t.after(() => store.close());
    const q = await store.createQueue(newKey().publicKey, far());
    const before = await store.storageBytes();
    for (let i = 0; i < 4; i++) await stored(store.enqueue(q.sendId, new Uint8Array(1024 * 1024), far()));
    assert.ok((await store.storageBytes()) >= before + 4 * 1024 * 1024);
    await store.close();
    const reopened = SqliteStore.open(join(dir, "relay.sqlite"));
    t.after(() => reopened.close());
    assert.ok((await reopened.storageBytes()) >= before + 4 * 1024 * 1024, "counted again at open");
    assert.equal(await reopened.deleteQueue(q.queueId), true);
    assert.ok((await reopened.storageBytes()) < before + 1024 * 1024);
    await reopened.close();
    assert.deepEqual(files(dir), []);
  });

  it("deletes the files of expired messages and of idle queues", async (t) => {
    const dir = tempDir(t);
    const store = SqliteStore.open(join(dir, "relay.sqlite"));
    t.after(() => store.close());
    const soon = await store.createQueue(newKey().publicKey, 1000);
    const idle = await store.createQueue(newKey().publicKey, 1000);
    const kept = await store.createQueue(newKey().publicKey, far());
    await stored(store.enqueue(soon.sendId, big(1), 1000));
    await stored(store.enqueue(kept.sendId, big(3), far()));
    await stored(store.enqueue(idle.sendId, big(2), far()));
    // A queue idle before its messages expire does not arise through enqueue; made here directly.
    const raw = new Database(join(dir, "relay.sqlite"));
    raw.prepare("UPDATE queues SET idle_until = 1000 WHERE queue_id = ?").run(idle.queueId);
    raw.close();
    assert.equal(files(dir).length, 3);
    const counts = await store.expire(2000);
    assert.deepEqual([counts.messages, counts.queues], [1, 2]);
    await store.close();
    assert.equal(files(dir).length, 1, "only the body that has not expired");
  });

  it("removes at start a file no message names (a crash between the file and its row)", async (t) => {
    const dir = tempDir(t);
    const first = SqliteStore.open(join(dir, "relay.sqlite"));
    const q = await first.createQueue(newKey().publicKey, far());
    const m = await stored(first.enqueue(q.sendId, big(5), far()));
    await first.close();
    writeFileSync(join(dir, "relay-bodies", "0123456789abcdef0123456789abcdef"), Buffer.alloc(100_000, 7));

    const store = SqliteStore.open(join(dir, "relay.sqlite"));
    t.after(() => store.close());
    const pending = await store.fetchPending(q.queueId, { limit: 10 });
    assert.deepEqual(
      pending.map((p) => [p.msgId, p.body[0]]),
      [[m.msgId, 5]],
    );
    await store.close();
    assert.equal(files(dir).length, 1, "the orphan is gone, the message's file is kept");
  });

  it("reads bodies from files into the caller's buffers when given, the same bytes, reused after they are given back", async (t) => {
    const dir = tempDir(t);
    const store = SqliteStore.open(join(dir, "relay.sqlite"));
    t.after(() => store.close());
    const q = await store.createQueue(newKey().publicKey, far());
    const first = big(3);
    first[first.length - 1] = 9;
    await stored(store.enqueue(q.sendId, first, far()));
    await stored(store.enqueue(q.sendId, big(4), far()));
    const pool = new BodyPool(64 * 1024 * 1024);
    for (let round = 0; round < 3; round++) {
      const buffers = pool.borrower();
      const pending = await store.fetchPending(q.queueId, { limit: 10, into: buffers });
      assert.ok(Buffer.from(first).equals(pending[0]!.body), `round ${round}: the first body`);
      assert.ok(Buffer.from(big(4)).equals(pending[1]!.body), `round ${round}: the second body`);
      buffers.giveBack();
    }
    assert.equal(pool.allocations, 2, "two buffers in the first round, none after");
  });

  for (const [what, damage] of [
    ["lost", (path: string) => rmSync(path)],
    ["cut short", (path: string) => writeFileSync(path, Buffer.alloc(100, 1))],
  ] as const) {
    it(`skips a message whose file was ${what} outside the relay (never part of a body), says so, and still delivers the others`, async (t) => {
      const dir = tempDir(t);
      const missing: string[] = [];
      const store = SqliteStore.open(join(dir, "relay.sqlite"), {
        onMissingBody: (_q, id) => missing.push(id),
      });
      t.after(() => store.close());
      const q = await store.createQueue(newKey().publicKey, far());
      const damaged = await stored(store.enqueue(q.sendId, big(1), far()));
      const ok = await stored(store.enqueue(q.sendId, new Uint8Array(10), far()));
      for (const f of files(dir)) damage(join(dir, "relay-bodies", f));
      const pending = await store.fetchPending(q.queueId, { limit: 10 });
      assert.deepEqual(
        pending.map((p) => p.msgId),
        [ok.msgId],
      );
      assert.deepEqual(missing, [damaged.msgId]);
    });
  }

  it("checks the caps again when the row is stored: of two large bodies that fit only one at a time, one lands and the other leaves no file", async (t) => {
    const dir = tempDir(t);
    const store = SqliteStore.open(join(dir, "relay.sqlite"));
    t.after(() => store.close());
    const q = await store.createQueue(newKey().publicKey, far());
    const limits = { maxMessages: 10, maxBytes: INLINE_BODY_MAX_BYTES + 100 };
    const results = await Promise.all([
      store.enqueue(q.sendId, big(1), far(), limits),
      store.enqueue(q.sendId, big(2), far(), limits),
    ]);
    assert.deepEqual(results.map((r) => r.status).sort(), ["queue_full", "stored"]);
    await store.close();
    assert.equal(files(dir).length, 1);
  });

  it("writes no file for a body refused on what is known before it is written", async (t) => {
    const dir = tempDir(t);
    const store = SqliteStore.open(join(dir, "relay.sqlite"));
    t.after(() => store.close());
    const q = await store.createQueue(newKey().publicKey, far());
    assert.equal((await store.enqueue("no-such-send-id", big(1), far())).status, "unknown_queue");
    const limits = { maxMessages: 10, maxBytes: 10 };
    assert.equal((await store.enqueue(q.sendId, big(1), far(), limits)).status, "queue_full");
    await store.close();
    assert.deepEqual(files(dir), []);
  });

  it("discloses bodies kept in files", async (t) => {
    const dir = tempDir(t);
    const store = SqliteStore.open(join(dir, "relay.sqlite"));
    t.after(() => store.close());
    const q = await store.createQueue(newKey().publicKey, far());
    await stored(store.enqueue(q.sendId, big(9), far()));
    const reader = SqliteStore.open(join(dir, "relay.sqlite"), { readonly: true });
    t.after(() => reader.close());
    const [queue] = (await reader.disclose(q.queueId)).queues;
    assert.equal(queue!.messages[0]!.body.length, INLINE_BODY_MAX_BYTES + 1);
    assert.equal(queue!.messages[0]!.body[0], 9);
  });
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
    assert.equal(raw.pragma("user_version", { simple: true }), 7);
    raw.close();

    const second = SqliteStore.open(path);
    t.after(() => second.close());
    const pending = await second.fetchPending(q.queueId, { limit: 10 });
    assert.equal(pending.length, 1);
    assert.equal(pending[0]!.msgId, m.msgId);
    assert.deepEqual(Buffer.from(pending[0]!.body), Buffer.alloc(512, 9));
  });

  it("stores only ids, keys, bodies, expiry times, the queue mode, positions, pending counts and blob sizes: no other columns", async (t) => {
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
    assert.deepEqual(tables, ["blobs", "invites", "messages", "nonces", "queues"]);
    // Blobs (file attachments): a size class, progress, expiry, capability hashes, and whether its
    // uploader deleted it early (a tombstone until expiry). No name, no type.
    assert.deepEqual(columns("blobs"), [
      "blob_id",
      "size",
      "received",
      "complete",
      "expires_at",
      "write_cap_hash",
      "delete_cap_hash",
      "deleted",
    ]);
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
    assert.deepEqual(columns("messages"), [
      "queue_id",
      "seq",
      "msg_id",
      "body",
      "expires_at",
      "body_file",
      "size",
    ]);
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

  it("migrates a version-4 database: each message's size is its body's length", async (t) => {
    const path = join(tempDir(t), "relay.sqlite");
    const old = new Database(path);
    migrate(old, migrations.slice(0, 4));
    const far = Date.now() + 1e8;
    old
      .prepare(
        "INSERT INTO queues (queue_id, send_id, recipient_key, idle_until) VALUES ('q', 's', 'key', ?)",
      )
      .run(far);
    old
      .prepare("INSERT INTO messages (queue_id, seq, msg_id, body, expires_at) VALUES ('q', 1, 'm1', ?, ?)")
      .run(Buffer.alloc(700, 3), far);
    old.prepare("UPDATE queues SET msg_count = 1, msg_bytes = 700").run();
    old.close();

    const store = SqliteStore.open(path);
    t.after(() => store.close());
    const [m] = await store.fetchPending("q", { limit: 10, maxBytes: 1 });
    assert.deepEqual(Buffer.from(m!.body), Buffer.alloc(700, 3));
    assert.equal(await store.ack("q", "m1"), true);
    assert.deepEqual(await store.queueUsage("q"), { messages: 0, bytes: 0 }, "the size came from the body");
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

  it("makes a new database with 16 KiB pages", async (t) => {
    const path = join(tempDir(t), "relay.sqlite");
    await SqliteStore.open(path).close();
    const raw = new Database(path, { readonly: true });
    t.after(() => raw.close());
    assert.equal(raw.pragma("page_size", { simple: true }), PAGE_SIZE);
    assert.equal(PAGE_SIZE, 16384);
  });

  // A database as an older relay left it: 4 KiB pages, with or without incremental auto-vacuum.
  for (const autoVacuum of [false, true]) {
    it(`converts an existing database with 4 KiB pages${autoVacuum ? " and incremental auto-vacuum" : ", no auto-vacuum"} once, keeping its data`, async (t) => {
      const path = join(tempDir(t), "relay.sqlite");
      const old = new Database(path);
      old.pragma("page_size = 4096");
      if (autoVacuum) old.pragma("auto_vacuum = INCREMENTAL");
      old.pragma("journal_mode = WAL");
      migrate(old, migrations);
      old
        .prepare(
          "INSERT INTO queues (queue_id, send_id, recipient_key, idle_until) VALUES ('q', 's', 'key', ?)",
        )
        .run(Date.now() + 1e8);
      assert.equal(old.pragma("auto_vacuum", { simple: true }), autoVacuum ? 2 : 0);
      old.close();

      const store = SqliteStore.open(path);
      assert.ok(await store.getQueue("q"));
      await store.close();
      const raw = new Database(path, { readonly: true });
      t.after(() => raw.close());
      assert.equal(raw.pragma("auto_vacuum", { simple: true }), 2, "INCREMENTAL");
      assert.equal(raw.pragma("page_size", { simple: true }), PAGE_SIZE);
      assert.equal(raw.pragma("journal_mode", { simple: true }), "wal");
    });
  }

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
