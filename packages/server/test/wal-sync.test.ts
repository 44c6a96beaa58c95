import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import Database from "better-sqlite3";
import { SqliteStore } from "../src/index.js";
import { GroupCommit, LAZY_WRITE_MS } from "../src/store/sqlite/group-commit.js";
import { WalSync } from "../src/store/sqlite/wal-sync.js";
import { delay, newKey, stored, tempDir } from "./helpers.js";

describe("WalSync", () => {
  it("coalesces: commits made while a sync runs share the next one", async (t) => {
    const path = join(tempDir(t), "file-wal");
    writeFileSync(path, "x");
    const wal = new WalSync(path);
    t.after(() => wal.close());
    const first = wal.afterCommit();
    assert.equal(wal.afterCommit(), first, "before it starts, a sync covers every commit made meanwhile");
    await Promise.resolve(); // the first sync has started (its file is being opened)
    // Made while it runs: these may not be covered by it, so they share the next one.
    const later = [wal.afterCommit(), wal.afterCommit(), wal.afterCommit()];
    assert.notEqual(later[0], first);
    assert.equal(later[0], later[1]);
    assert.equal(later[1], later[2]);
    await Promise.all([first, ...later]);
    const again = wal.afterCommit();
    assert.notEqual(again, later[0], "a commit after they finished gets a sync of its own");
    await again;
  });

  it("fails the writes of a sync that fails, and syncs again for the next ones", async (t) => {
    const dir = tempDir(t);
    const path = join(dir, "missing-wal");
    const wal = new WalSync(path);
    t.after(() => wal.close());
    await assert.rejects(wal.afterCommit(), { code: "ENOENT" });
    writeFileSync(path, "x");
    await wal.afterCommit();
  });
});

describe("SqliteStore durability", () => {
  it("keeps every write it resolved, across close and reopen, with commits synced by WalSync", async (t) => {
    const path = join(tempDir(t), "relay.sqlite");
    const store = SqliteStore.open(path);
    const q = await store.createQueue(newKey().publicKey, Date.now() + 1e8);
    const sent = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        stored(store.enqueue(q.sendId, new Uint8Array(100).fill(i), Date.now() + 1e8)),
      ),
    );
    const raw = new Database(path, { readonly: true });
    assert.equal(raw.prepare("SELECT COUNT(*) AS n FROM messages").get()!["n" as never], 20);
    raw.close();
    await store.close();
    const again = SqliteStore.open(path);
    t.after(() => again.close());
    assert.deepEqual(
      (await again.fetchPending(q.queueId, { limit: 50 })).map((m) => m.msgId),
      sent.map((m) => m.msgId),
    );
  });
});

describe("SqliteStore: what waits for the WAL's sync", () => {
  it("a send resolves only once synced; a batched ack once its deletion is committed", async (t) => {
    const store = SqliteStore.open(join(tempDir(t), "relay.sqlite"));
    t.after(() => store.close());
    const q = await store.createQueue(newKey().publicKey, Date.now() + 1e8);
    const first = await stored(store.enqueue(q.sendId, new Uint8Array(100).fill(1), Date.now() + 1e8));
    // Every sync from now on is held until `release`.
    const wal = (store as unknown as { wal: { afterCommit: () => Promise<void> } }).wal;
    const sync = wal.afterCommit.bind(wal);
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    wal.afterCommit = () => held.then(sync);
    t.after(release);
    let sendDone = false;
    const send = stored(store.enqueue(q.sendId, new Uint8Array(100).fill(2), Date.now() + 1e8)).then((m) => {
      sendDone = true;
      return m;
    });
    const timeout = new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), 2000).unref());
    const acked = await Promise.race([store.ackMany(q.queueId, [first.msgId]), timeout]);
    assert.deepEqual(acked, [first.msgId], "the ack is answered while the sync is held");
    assert.equal(sendDone, false, "the send is not: a 202 means on disk");
    release();
    const second = await send;
    assert.deepEqual(
      (await store.fetchPending(q.queueId, { limit: 10 })).map((m) => m.msgId),
      [second.msgId],
    );
  });
});

describe("GroupCommit: readable before synced", () => {
  it("tells of a write once its commit is readable, and resolves it only once the sync is done", async () => {
    const db = new Database(":memory:");
    db.exec("CREATE TABLE t (v INTEGER)");
    let open!: () => void;
    const gate = new Promise<void>((r) => {
      open = r;
    });
    // A sync that takes as long as the test wants (a slow disk).
    const wal = { afterCommit: () => gate } as unknown as WalSync;
    const commits = new GroupCommit(db, wal);
    const readable: number[] = [];
    let resolved = false;
    const write = commits
      .add(
        () => db.prepare("INSERT INTO t (v) VALUES (7)").run().changes,
        (changes) => readable.push(changes),
      )
      .then(() => {
        resolved = true;
      });
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(readable, [1], "readable once committed");
    assert.equal(db.prepare("SELECT COUNT(*) AS n FROM t").get()!["n" as never], 1);
    assert.equal(resolved, false, "not answered before the sync");
    open();
    await write;
    assert.equal(resolved, true);
    db.close();
  });
});

describe("GroupCommit: one write failing", () => {
  it("undoes a write that fails halfway and commits the others of its batch, each once", async () => {
    const db = new Database(":memory:");
    db.exec("CREATE TABLE t (v INTEGER UNIQUE)");
    const commits = new GroupCommit(db, null);
    const insert = (v: number) => db.prepare("INSERT INTO t (v) VALUES (?)").run(v).changes;
    let runs = 0;
    const writes = [
      commits.add(() => insert(1)),
      commits.add(() => {
        runs++;
        insert(2); // done, then the write fails: its first statement must not stay
        insert(1); // a unique violation
      }),
      commits.add(() => insert(3)),
    ];
    const outcomes = await Promise.allSettled(writes);
    assert.deepEqual(
      outcomes.map((o) => o.status),
      ["fulfilled", "rejected", "fulfilled"],
    );
    assert.deepEqual(
      db
        .prepare("SELECT v FROM t ORDER BY v")
        .all()
        .map((r) => (r as { v: number }).v),
      [1, 3],
      "the failed write's first insert is undone, the others are committed once",
    );
    assert.ok(runs >= 1);
    // The next batch, with nothing failing, commits as usual.
    await commits.add(() => insert(4));
    assert.equal(db.prepare("SELECT COUNT(*) AS n FROM t").get()!["n" as never], 3);
    db.close();
  });
});

describe("GroupCommit: lazy writes", () => {
  it("a lazy write (an ack's deletion) commits with the next ordinary write, or alone after LAZY_WRITE_MS", async () => {
    const db = new Database(":memory:");
    db.exec("CREATE TABLE t (v INTEGER)");
    const commits = new GroupCommit(db, null);
    let transactions = 0;
    const begin = db.transaction.bind(db);
    db.transaction = ((fn: () => unknown) => {
      transactions++;
      return begin(fn);
    }) as typeof db.transaction;
    const insert = (v: number) => () => db.prepare("INSERT INTO t (v) VALUES (?)").run(v).changes;

    const started = performance.now();
    await commits.add(insert(1), undefined, { lazy: true });
    assert.ok(performance.now() - started >= LAZY_WRITE_MS - 1, "alone, it waited for company");
    assert.equal(transactions, 1);

    const lazy = commits.add(insert(2), undefined, { lazy: true });
    await delay(1);
    const ordinary = commits.add(insert(3));
    await Promise.all([lazy, ordinary]);
    assert.equal(transactions, 2, "the lazy write rode in the ordinary write's commit");
    assert.equal(db.prepare("SELECT COUNT(*) AS n FROM t").get()!["n" as never], 3);
    db.close();
  });
});

describe("GroupCommit: held", () => {
  it("commits nothing while held (a checkpoint has the WAL), then every write in order; close's flush does not wait", async () => {
    const db = new Database(":memory:");
    db.exec("CREATE TABLE t (v INTEGER)");
    const commits = new GroupCommit(db, null);
    const insert = (v: number) => () => db.prepare("INSERT INTO t (v) VALUES (?)").run(v).changes;
    const count = () => (db.prepare("SELECT COUNT(*) AS n FROM t").get() as { n: number }).n;

    const releaseA = commits.hold();
    const releaseB = commits.hold();
    const writes = [1, 2, 3].map((v) => commits.add(insert(v)));
    await delay(20);
    assert.equal(count(), 0, "held: nothing committed");
    releaseA();
    releaseA(); // a second call of the same release changes nothing
    await delay(20);
    assert.equal(count(), 0, "still held by the other");
    releaseB();
    await Promise.all(writes);
    assert.deepEqual(
      db
        .prepare("SELECT v FROM t ORDER BY rowid")
        .all()
        .map((r) => (r as { v: number }).v),
      [1, 2, 3],
    );

    // The store's close flushes what was accepted, held or not.
    commits.hold();
    const last = commits.add(insert(4));
    commits.flush();
    await last;
    assert.equal(count(), 4);
    db.close();
  });
});
