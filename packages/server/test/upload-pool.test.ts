/**
 * Large uploads read into reused buffers (http/raw-body.ts with relay/body-pool.ts) and the WAL
 * checkpointed on a thread of its own (store/sqlite/checkpointer.ts): both exist to keep the relay's
 * one thread free under a flood (issue 7, abuse bench `fill-large`, `invite-flood`); these tests
 * hold what must not change for that — no byte of one upload in another, no buffer lost on a
 * refused or cut-off upload, the database still getting its checkpoints.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync, statSync } from "node:fs";
import { type IncomingMessage, request } from "node:http";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { describe, it } from "node:test";
import type { Worker } from "node:worker_threads";
import Database from "better-sqlite3";
import { readRawBody } from "../src/http/raw-body.js";
import { SqliteStore } from "../src/index.js";
import { Checkpointer, checkpointWorkerPath } from "../src/store/sqlite/checkpointer.js";
import { GroupCommit } from "../src/store/sqlite/group-commit.js";
import { WalSync } from "../src/store/sqlite/wal-sync.js";
import {
  command,
  createQueue,
  envelope,
  newKey,
  postBytes,
  signCommand,
  startTestRelay,
  stored,
  tempDir,
} from "./helpers.js";

const MIB = 1024 * 1024;

async function fetchAll(url: string, q: Awaited<ReturnType<typeof createQueue>>): Promise<Buffer[]> {
  const bodies: Buffer[] = [];
  for (;;) {
    const reply = await command(url, signCommand(q.key, "fetch", q.queueId));
    const messages = (reply.json["messages"] ?? []) as { msgId: string; body: string }[];
    if (messages.length === 0) return bodies;
    for (const m of messages) {
      bodies.push(Buffer.from(m.body, "base64url"));
      assert.equal(
        (await command(url, signCommand(q.key, "ack", q.queueId, { msgId: m.msgId }))).status,
        200,
      );
    }
  }
}

describe("large uploads in reused buffers", () => {
  it("stores every large upload intact, whether they come at once or one after another", async (t) => {
    const relay = await startTestRelay(t, { dataDir: tempDir(t) });
    const q = await createQueue(relay.url);
    // Four at once (four buffers in use together), then four in turn (each reusing a buffer the
    // one before gave back): a buffer given back before its body was written would show here as
    // one message carrying another's bytes.
    const fills = [1, 2, 3, 4, 5, 6, 7, 8];
    const sizes = [2 * MIB, 8 * MIB, 2 * MIB, 2 * MIB, 2 * MIB, 2 * MIB, 8 * MIB, 2 * MIB];
    const together = await Promise.all(
      fills
        .slice(0, 4)
        .map((fill, i) => postBytes(`${relay.url}/v1/send/${q.sendId}`, envelope(sizes[i], fill))),
    );
    for (const r of together) assert.equal(r.status, 202, JSON.stringify(r.json));
    for (const [i, fill] of fills.slice(4).entries()) {
      const r = await postBytes(`${relay.url}/v1/send/${q.sendId}`, envelope(sizes[i + 4], fill));
      assert.equal(r.status, 202, JSON.stringify(r.json));
    }
    const bodies = await fetchAll(relay.url, q);
    assert.equal(bodies.length, 8);
    const expected = fills.map((fill, i) => Buffer.from(envelope(sizes[i], fill)));
    const key = (b: Buffer) => `${b.length}:${b[4]}`;
    assert.deepEqual(bodies.map(key).sort(), expected.map(key).sort());
    for (const body of bodies) {
      const twin = expected.find((e) => key(e) === key(body))!;
      assert.ok(body.equals(twin), `the ${body.length}-byte body filled with ${body[4]} is intact`);
    }
  });

  it("gives the buffer back when an upload is refused or cut off, and the next one is intact", async (t) => {
    const relay = await startTestRelay(t, { dataDir: tempDir(t) });
    const q = await createQueue(relay.url);
    // Refused after it was read: not a padding size.
    const odd = await postBytes(`${relay.url}/v1/send/${q.sendId}`, new Uint8Array(2 * MIB + 1));
    assert.equal(odd.status, 400);
    assert.equal(odd.json["code"], "bad_padding");
    // Cut off half way: the relay reads 1 MiB of a declared 2 MiB, then the client goes.
    await new Promise<void>((resolve) => {
      const { hostname, port } = new URL(relay.url);
      const req = request({
        hostname,
        port,
        method: "POST",
        path: `/v1/send/${q.sendId}`,
        headers: { "content-type": "application/octet-stream", "content-length": 2 * MIB },
      });
      req.on("error", () => resolve());
      req.write(Buffer.alloc(MIB, 9), () => setTimeout(() => req.destroy(), 100));
      req.on("close", () => resolve());
    });
    const r = await postBytes(`${relay.url}/v1/send/${q.sendId}`, envelope(2 * MIB, 3));
    assert.equal(r.status, 202);
    const bodies = await fetchAll(relay.url, q);
    assert.equal(bodies.length, 1, "the refused and the cut-off uploads stored nothing");
    assert.ok(bodies[0]!.equals(Buffer.from(envelope(2 * MIB, 3))));
  });
});

describe("readRawBody: a pooled buffer for what arrived, not for what was announced", () => {
  it("takes no buffer for a body that announced 8 MiB and brought a few bytes, and one once it brings more", async () => {
    const body = Object.assign(new PassThrough(), {
      headers: { "content-length": String(8 * MIB) },
    }) as unknown as IncomingMessage & PassThrough;
    let taken = 0;
    const read = readRawBody(body, 16 * MIB, (size) => {
      taken++;
      return { buffer: Buffer.allocUnsafe(size), giveBack: () => {} };
    });
    const sent = Buffer.alloc(8 * MIB);
    for (let i = 0; i < sent.length; i += 4096) sent[i] = (i / 4096) % 251;
    // A slow body's first bytes (the abuse bench's `slow-bodies`: 500 of these at once).
    body.write(sent.subarray(0, 10));
    body.write(sent.subarray(10, 70_000));
    await new Promise((r) => setImmediate(r));
    assert.equal(taken, 0, "nothing taken while less than a piece arrived");
    for (let at = 70_000; at < sent.length; at += 300_000)
      body.write(sent.subarray(at, Math.min(sent.length, at + 300_000)));
    body.end();
    const got = await read;
    assert.equal(taken, 1);
    assert.ok(got.equals(sent), "the bytes that came before the buffer was taken are in it, in order");
  });
});

describe("SqliteStore: WAL checkpoints on their own thread", () => {
  it("moves committed pages into the database file without the store's connection checkpointing", async (t) => {
    const path = join(tempDir(t), "relay.sqlite");
    const store = SqliteStore.open(path);
    let closed = false;
    t.after(() => (closed ? undefined : store.close()));
    const q = await store.createQueue(newKey().publicKey, Date.now() + 1e8);
    const before = statSync(path).size;
    // 12 MiB of small messages (inline in the database): three times SQLite's 1,000-page
    // automatic checkpoint, which the store's own connection no longer does.
    for (let round = 0; round < 12; round++) {
      await Promise.all(
        Array.from({ length: 256 }, (_, i) =>
          stored(store.enqueue(q.sendId, envelope(4096 - 4, (round + i) % 250), Date.now() + 1e8)),
        ),
      );
    }
    const deadline = Date.now() + 10_000;
    while (statSync(path).size < before + 8 * MIB && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    assert.ok(
      statSync(path).size >= before + 8 * MIB,
      `the database file grew from ${before} to ${statSync(path).size} bytes: the checkpoints ran`,
    );
    closed = true;
    await store.close(); // the checkpoint thread stops with it (a thread left running would hang this file)
    const again = SqliteStore.open(path);
    t.after(() => again.close());
    assert.equal((await again.fetchPending(q.queueId, { limit: 5000 })).length, 12 * 256, "nothing lost");
  });
});

describe("SqliteStore: the relay's connection and its syncs", () => {
  const syncMode = (db: Database.Database) => db.pragma("synchronous", { simple: true });
  const OFF = 0;
  const NORMAL = 1;

  it("syncs nothing itself while the thread checkpoints; the thread truncates with commits held; the checkpoint at close runs under NORMAL", async (t) => {
    const path = join(tempDir(t), "relay.sqlite");
    await SqliteStore.open(path).close(); // the schema
    const db = new Database(path);
    db.pragma("journal_mode = WAL");
    const checkpointer = new Checkpointer(path, db);
    let closed = false;
    t.after(async () => {
      if (!closed) await checkpointer.close();
      db.close();
    });
    assert.equal(syncMode(db), OFF, "WalSync's fdatasync makes commits durable, off the event loop");
    db.prepare("INSERT INTO invites (invite_id, blob, expires_at) VALUES ('i', x'00', 1)").run();
    assert.ok(checkpointer.walBytes() > 0);
    let held = 0;
    checkpointer.setWriteGate({
      hold: () => {
        held++;
        return () => held--;
      },
    });
    const truncated = checkpointer.truncate();
    assert.equal(held, 1, "the relay's commits wait while the thread truncates");
    await truncated;
    assert.equal(held, 0);
    assert.equal(checkpointer.walBytes(), 0, "TRUNCATE empties the WAL file");
    assert.equal(syncMode(db), OFF, "and the thread is in charge again");
    closed = true;
    await checkpointer.close();
    assert.equal(syncMode(db), NORMAL, "the checkpoint at close is synced");
  });

  it("keeps the WAL bounded under a steady flow of commits: past its limit, commits wait for one complete checkpoint", async (t) => {
    const path = join(tempDir(t), "relay.sqlite");
    await SqliteStore.open(path).close();
    const db = new Database(path);
    db.pragma("journal_mode = WAL");
    const checkpointer = new Checkpointer(path, db, 2 * MIB);
    const wal = new WalSync(`${path}-wal`, checkpointer);
    const writes = new GroupCommit(db, wal);
    checkpointer.setWriteGate(writes);
    t.after(async () => {
      await wal.close();
      db.close();
    });
    const insert = db.prepare("INSERT INTO invites (invite_id, blob, expires_at) VALUES (?, ?, 1)");
    const blob = Buffer.alloc(8192, 7);
    let largest = 0;
    // 40 MiB of commits over a second or two, 16 writes every 2 ms, never waiting for the last
    // batch: a PASSIVE checkpoint beside them never reaches the WAL's end, so without the catch-up
    // the WAL grows by all of it (about 90 MiB of 16 KiB frames).
    let n = 0;
    let inFlight: Promise<unknown>[] = [];
    while (n < 5120) {
      for (let i = 0; i < 16; i++, n++) {
        const id = `i${n}`;
        inFlight.push(writes.add(() => insert.run(id, blob)));
      }
      if (inFlight.length >= 256) await Promise.all(inFlight.splice(0, 128));
      await new Promise((r) => setTimeout(r, 2));
      largest = Math.max(largest, checkpointer.walBytes());
    }
    await Promise.all(inFlight);
    inFlight = [];
    assert.equal((db.prepare("SELECT COUNT(*) AS c FROM invites").get() as { c: number }).c, 5120);
    assert.ok(largest < 60 * MIB, `the WAL file stayed at ${(largest / MIB).toFixed(1)} MiB at most`);
  });

  it("goes back to SQLite's own checkpoints, synced, when the thread dies", async (t) => {
    const path = join(tempDir(t), "relay.sqlite");
    await SqliteStore.open(path).close();
    const db = new Database(path);
    db.pragma("journal_mode = WAL");
    const checkpointer = new Checkpointer(path, db);
    t.after(async () => {
      await checkpointer.close();
      db.close();
    });
    checkpointer.nudge(); // starts the thread
    const worker = (checkpointer as unknown as { worker: Worker | null }).worker;
    assert.ok(worker);
    await worker.terminate();
    const deadline = Date.now() + 5000;
    while (syncMode(db) !== NORMAL && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(syncMode(db), NORMAL);
    assert.equal(db.pragma("wal_autocheckpoint", { simple: true }), 1000);
  });
});

describe("the relay as one file (scripts/bundle.mjs)", () => {
  it("finds the checkpoint thread's module and the web app from the package's folder, as modules and as the bundle", () => {
    assert.ok(existsSync(checkpointWorkerPath()), checkpointWorkerPath());
    // The bundle, when built, names no file relative to itself (it lies in dist/, not dist/src/…).
    const bundle = join(checkpointWorkerPath(), "..", "..", "..", "..", "relay.bundle.mjs");
    if (!existsSync(bundle)) return;
    const text = readFileSync(bundle, "utf8");
    assert.ok(!/new URL\(["']\.\.?\//.test(text), 'no `new URL("./…", import.meta.url)` in the bundle');
  });
});
