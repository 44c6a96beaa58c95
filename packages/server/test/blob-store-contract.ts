/**
 * The behaviour every BlobStore (bytes of file attachments) must have, and every BlobIndex (their
 * metadata, part of a Store). A new backend — a shared directory, an object store, PostgreSQL for
 * the index — adds one call.
 */
import assert from "node:assert/strict";
import { describe, it, type TestContext } from "node:test";
import { type BlobStore, BlobWriteOverflow } from "../src/blobs/blob-store.js";
import { newId } from "../src/ids.js";
import type { BlobIndex } from "../src/store/blob-index.js";

async function* pieces(...parts: Uint8Array[]): AsyncIterable<Uint8Array> {
  for (const p of parts) yield p;
}

async function* broken(first: Uint8Array): AsyncIterable<Uint8Array> {
  yield first;
  throw new Error("connection dropped");
}

async function readAll(store: BlobStore, id: string, start: number, end: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of store.read(id, start, end)) chunks.push(Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks);
}

const bytes = (n: number, fill: number) => new Uint8Array(n).fill(fill);

export function blobStoreContract(backend: string, open: (t: TestContext) => Promise<BlobStore>): void {
  describe(`BlobStore contract: ${backend}`, () => {
    it("writes at offsets, in pieces, and reads back any range", async (t) => {
      const store = await open(t);
      const id = newId();
      await store.create(id);
      assert.equal(await store.write(id, 0, pieces(bytes(3, 1), bytes(2, 2)), 5), 5);
      assert.equal(await store.write(id, 5, pieces(bytes(4, 3)), 4), 4);
      assert.deepEqual([...(await readAll(store, id, 0, 9))], [1, 1, 1, 2, 2, 3, 3, 3, 3]);
      assert.deepEqual([...(await readAll(store, id, 4, 7))], [2, 3, 3]);
      assert.deepEqual(await store.list(), [id]);
    });

    it("refuses more bytes than a write may take, and rethrows a broken source", async (t) => {
      const store = await open(t);
      const id = newId();
      await store.create(id);
      await assert.rejects(store.write(id, 0, pieces(bytes(4, 1), bytes(4, 1)), 6), BlobWriteOverflow);
      await assert.rejects(store.write(id, 0, broken(bytes(4, 1)), 10), /connection dropped/);
      // A later write at the same offset replaces whatever a failed one left.
      assert.equal(await store.write(id, 0, pieces(bytes(4, 9)), 4), 4);
      assert.deepEqual([...(await readAll(store, id, 0, 4))], [9, 9, 9, 9]);
    });

    it("removes a blob (twice is harmless) and lists only what is held", async (t) => {
      const store = await open(t);
      const a = newId();
      const b = newId();
      await store.create(a);
      await store.create(b);
      await store.write(a, 0, pieces(bytes(10, 5)), 10);
      await store.remove(a);
      await store.remove(a);
      assert.deepEqual(await store.list(), [b]);
    });
  });
}

const T0 = 1_700_000_000_000;
const HOUR = 3_600_000;
const hash = (c: string) => c.repeat(64).slice(0, 64);

export function blobIndexContract(backend: string, open: (t: TestContext) => Promise<BlobIndex>): void {
  describe(`BlobIndex contract: ${backend}`, () => {
    it("records a blob, advances it in order only, and completes it at its size", async (t) => {
      const index = await open(t);
      const blobId = newId();
      await index.create({
        blobId,
        size: 100,
        expiresAt: T0 + HOUR,
        writeCapHash: hash("a"),
        deleteCapHash: hash("b"),
      });
      assert.deepEqual(await index.get(blobId), {
        blobId,
        size: 100,
        received: 0,
        complete: false,
        expiresAt: T0 + HOUR,
        writeCapHash: hash("a"),
        deleteCapHash: hash("b"),
        deleted: false,
      });
      assert.equal(await index.pendingBytes(), 100);
      assert.equal(await index.advance(blobId, 0, 40, T0 + 9 * HOUR), true);
      assert.equal(await index.advance(blobId, 0, 40, T0 + 9 * HOUR), false, "a second writer at 0 loses");
      assert.equal(await index.advance(blobId, 40, 101, T0 + 9 * HOUR), false, "not past the size");
      assert.equal(await index.pendingBytes(), 60);
      assert.equal((await index.get(blobId))!.expiresAt, T0 + HOUR, "the upload deadline until complete");
      assert.equal(await index.advance(blobId, 40, 100, T0 + 9 * HOUR), true);
      const done = (await index.get(blobId))!;
      assert.equal(done.complete, true);
      assert.equal(done.received, 100);
      assert.equal(done.expiresAt, T0 + 9 * HOUR, "a complete blob lives as long as a message");
      assert.equal(await index.advance(blobId, 100, 100, T0), false, "a complete blob takes no writes");
      assert.equal(await index.pendingBytes(), 0);
      assert.equal(await index.totalBytes(), 100);
    });

    it("lists expired blobs and deletes rows", async (t) => {
      const index = await open(t);
      const old = newId();
      const fresh = newId();
      await index.create({
        blobId: old,
        size: 10,
        expiresAt: T0,
        writeCapHash: hash("c"),
        deleteCapHash: hash("d"),
      });
      await index.create({
        blobId: fresh,
        size: 10,
        expiresAt: T0 + HOUR,
        writeCapHash: hash("e"),
        deleteCapHash: hash("f"),
      });
      assert.deepEqual(await index.expired(T0, 100), [old]);
      assert.equal(await index.delete(old), true);
      assert.equal(await index.delete(old), false);
      assert.equal(await index.get(old), null);
      assert.deepEqual(await index.expired(T0 + HOUR, 100), [fresh]);
    });

    it("keeps a deleted blob as a tombstone: no writes, in no total, expiring as before", async (t) => {
      const index = await open(t);
      const blobId = newId();
      await index.create({
        blobId,
        size: 100,
        expiresAt: T0 + HOUR,
        writeCapHash: hash("a"),
        deleteCapHash: hash("b"),
      });
      assert.equal(await index.advance(blobId, 0, 40, T0 + 9 * HOUR), true);
      assert.equal(await index.markDeleted(blobId), true);
      assert.equal(await index.markDeleted(blobId), false, "deleted already");
      assert.equal(await index.markDeleted(newId()), false, "no such blob");
      assert.equal((await index.get(blobId))!.deleted, true);
      assert.equal(await index.advance(blobId, 40, 100, T0 + 9 * HOUR), false, "takes no writes");
      assert.equal(await index.pendingBytes(), 0);
      assert.equal(await index.totalBytes(), 0);
      assert.deepEqual(await index.expired(T0 + HOUR, 100), [blobId]);
      assert.deepEqual(
        (await index.list(10)).map((b) => [b.blobId, b.deleted]),
        [[blobId, true]],
      );
    });
  });
}
