/**
 * Blobs (encrypted file attachments) on a real relay over HTTP: the stores' contracts, then the
 * endpoints with good and malformed input. The relay must answer every mistake with a clear
 * `{code, error}`, store nothing past its limits, and stay up.
 */
import assert from "node:assert/strict";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { BLOB_CAP_HEADER, BLOB_PUT_MAX_BYTES, blobSizeForFile, padme } from "@parley/protocol";
import { FileBlobStore } from "../src/blobs/file-blob-store.js";
import { MemoryBlobStore } from "../src/blobs/memory-blob-store.js";
import { SqliteStore } from "../src/index.js";
import { blobIndexContract, blobStoreContract } from "./blob-store-contract.js";
import { postJson, startTestRelay, tempDir } from "./helpers.js";

blobStoreContract("filesystem", async (t) => {
  const store = new FileBlobStore(join(tempDir(t), "relay-blobs"));
  t.after(() => store.close());
  return store;
});
blobStoreContract("memory", async () => new MemoryBlobStore());
blobIndexContract("SQLite", async (t) => {
  const store = SqliteStore.open(join(tempDir(t), "relay.sqlite"));
  t.after(() => store.close());
  return store.blobs;
});

interface Created {
  blobId: string;
  writeCap: string;
  deleteCap: string;
}

async function create(url: string, size: number): Promise<Created> {
  const res = await postJson(`${url}/v1/blobs`, { size });
  assert.equal(res.status, 201, JSON.stringify(res.json));
  return res.json as unknown as Created;
}

async function put(
  url: string,
  blob: Created,
  offset: number | string,
  body: Uint8Array,
  cap = blob.writeCap,
) {
  const res = await fetch(`${url}/v1/blobs/${blob.blobId}?offset=${offset}`, {
    method: "PUT",
    headers: { "content-type": "application/octet-stream", [BLOB_CAP_HEADER]: cap },
    body,
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

const status = async (url: string, id: string) => {
  const res = await fetch(`${url}/v1/blobs/${id}/status`);
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
};

const random = (n: number) => {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(b.subarray(i, Math.min(n, i + 65536)));
  return b;
};

describe("blob endpoints", () => {
  it("advertise the relay's limits", async (t) => {
    const relay = await startTestRelay(t, { config: { maxFileBytes: 5 * 2 ** 20 } });
    const limits = (await (await fetch(`${relay.url}/v1/limits`)).json()) as Record<string, number>;
    assert.equal(limits["maxFileBytes"], 5 * 2 ** 20);
    assert.equal(limits["maxBlobBytes"], blobSizeForFile(5 * 2 ** 20));
    assert.equal(limits["blobPutMaxBytes"], BLOB_PUT_MAX_BYTES);
  });

  it("take an upload in pieces, say how far it got, and serve it whole and by range", async (t) => {
    const dir = tempDir(t);
    const relay = await startTestRelay(t, { dataDir: dir });
    const size = blobSizeForFile(3_000_000);
    const bytes = random(size);
    const blob = await create(relay.url, size);
    assert.deepEqual((await status(relay.url, blob.blobId)).json, { size, received: 0, complete: false });
    const first = await put(relay.url, blob, 0, bytes.subarray(0, 1_000_000));
    assert.deepEqual(first, { status: 200, json: { received: 1_000_000, complete: false } });
    // Not downloadable before it is complete.
    const early = await fetch(`${relay.url}/v1/blobs/${blob.blobId}`);
    assert.equal(early.status, 409);
    assert.equal(((await early.json()) as Record<string, unknown>)["code"], "bad_offset");
    assert.deepEqual((await put(relay.url, blob, 1_000_000, bytes.subarray(1_000_000))).json, {
      received: size,
      complete: true,
    });
    const whole = new Uint8Array(await (await fetch(`${relay.url}/v1/blobs/${blob.blobId}`)).arrayBuffer());
    assert.deepEqual(Buffer.from(whole).equals(Buffer.from(bytes)), true);
    const part = await fetch(`${relay.url}/v1/blobs/${blob.blobId}`, {
      headers: { range: "bytes=2000000-" },
    });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get("content-range"), `bytes 2000000-${size - 1}/${size}`);
    assert.ok(Buffer.from(await part.arrayBuffer()).equals(Buffer.from(bytes.subarray(2_000_000))));
    // On disk: one file of exactly the blob's bytes, 0600 in a 0700 directory.
    const files = readdirSync(join(dir, "relay-blobs"));
    assert.deepEqual(files, [blob.blobId]);
    assert.equal(statSync(join(dir, "relay-blobs", blob.blobId)).size, size);
    assert.equal(statSync(join(dir, "relay-blobs", blob.blobId)).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, "relay-blobs")).mode & 0o777, 0o700);
  });

  it("refuse malformed creation: wrong sizes, huge sizes, junk", async (t) => {
    const relay = await startTestRelay(t, { config: { maxFileBytes: 2 ** 20 } });
    const cases: [unknown, number, string][] = [
      [{ size: blobSizeForFile(1000) + 1 }, 400, "bad_padding"],
      [{ size: 1000 }, 400, "bad_padding"],
      [{ size: blobSizeForFile(2 ** 20 + 1) }, 413, "too_large"],
      [{ size: 2 ** 52 }, 413, "too_large"],
      [{ size: 1e300 }, 400, "bad_request"],
      [{ size: -5 }, 400, "bad_request"],
      [{ size: "12" }, 400, "bad_request"],
      [{ size: 5000, extra: 1 }, 400, "bad_request"],
      ["not json", 400, "bad_request"],
    ];
    for (const [body, code, name] of cases) {
      const res = await postJson(`${relay.url}/v1/blobs`, body);
      assert.equal(res.status, code, JSON.stringify(body));
      assert.equal(res.json["code"], name, JSON.stringify(body));
      assert.equal(typeof res.json["error"], "string");
    }
    assert.equal(padme(blobSizeForFile(1000)) > 0, true);
  });

  it("refuse writes out of order, past the size, without the capability, and to unknown ids", async (t) => {
    const relay = await startTestRelay(t);
    const size = blobSizeForFile(100_000);
    const blob = await create(relay.url, size);
    const some = random(1000);
    const outOfOrder = await put(relay.url, blob, 500, some);
    assert.equal(outOfOrder.status, 409);
    assert.deepEqual([outOfOrder.json["code"], outOfOrder.json["received"]], ["bad_offset", 0]);
    assert.equal((await put(relay.url, blob, 0, some, "A".repeat(43))).json["code"], "forbidden");
    assert.equal((await put(relay.url, blob, 0, some, "short")).json["code"], "forbidden");
    assert.equal((await put(relay.url, blob, 0, random(size + 1))).json["code"], "bad_request");
    for (const offset of ["-1", "1e3", "01", "abc", ""]) {
      assert.equal((await put(relay.url, blob, offset, some)).json["code"], "bad_request", offset);
    }
    assert.equal((await put(relay.url, blob, 0, new Uint8Array(0))).json["code"], "bad_request");
    const unknown = { ...blob, blobId: "AAAAAAAAAAAAAAAAAAAAAA" };
    assert.equal((await put(relay.url, unknown, 0, some)).json["code"], "unknown_blob");
    assert.equal((await status(relay.url, "AAAAAAAAAAAAAAAAAAAAAA")).json["code"], "unknown_blob");
    assert.equal((await status(relay.url, "not-an-id")).json["code"], "bad_request");
    const bad = await fetch(`${relay.url}/v1/blobs/${blob.blobId}`, { headers: { range: "bytes=0-1,5-6" } });
    assert.equal(bad.status, 400);
    // Nothing counted from the refused writes; the right one still works.
    assert.equal((await status(relay.url, blob.blobId)).json["received"], 0);
    assert.equal((await put(relay.url, blob, 0, some)).json["received"], 1000);
    assert.equal((await put(relay.url, blob, 0, some)).json["code"], "bad_offset", "no overwrite");
  });

  it("delete a blob early with its delete capability only", async (t) => {
    const relay = await startTestRelay(t);
    const size = blobSizeForFile(10);
    const blob = await create(relay.url, size);
    await put(relay.url, blob, 0, random(size));
    const del = (cap: string) =>
      fetch(`${relay.url}/v1/blobs/${blob.blobId}`, {
        method: "DELETE",
        headers: { [BLOB_CAP_HEADER]: cap },
      });
    assert.equal((await del(blob.writeCap)).status, 403, "the write capability does not delete");
    assert.equal((await del(blob.deleteCap)).status, 200);
    // A reader is told the uploader deleted it (410), not that it expired (404 unknown_blob).
    assert.equal((await status(relay.url, blob.blobId)).json["code"], "blob_deleted");
    const read = await fetch(`${relay.url}/v1/blobs/${blob.blobId}`);
    assert.equal(read.status, 410);
    assert.equal(((await read.json()) as { code: string }).code, "blob_deleted");
    assert.equal((await del(blob.deleteCap)).status, 410, "a second delete: already deleted");
    assert.equal((await put(relay.url, blob, 0, random(size))).json["code"], "blob_deleted");
  });

  it("keep a deleted blob's tombstone only until its expiry, and count it nowhere", async (t) => {
    let now = Date.now();
    const dir = tempDir(t);
    const relay = await startTestRelay(t, { dataDir: dir, now: () => now, config: { sweepIntervalMs: 50 } });
    const size = blobSizeForFile(10_000);
    const blob = await create(relay.url, size);
    const del = await fetch(`${relay.url}/v1/blobs/${blob.blobId}`, {
      method: "DELETE",
      headers: { [BLOB_CAP_HEADER]: blob.deleteCap },
    });
    assert.equal(del.status, 200, "an unfinished upload can be deleted too");
    assert.deepEqual(readdirSync(join(dir, "relay-blobs")), [], "the bytes go at once");
    assert.equal((await status(relay.url, blob.blobId)).json["code"], "blob_deleted");
    now += 2 * 24 * 3_600_000; // past its upload window: it would have expired by now
    assert.equal((await status(relay.url, blob.blobId)).json["code"], "unknown_blob");
  });

  it("expire unfinished uploads after the upload window, complete blobs at the TTL", async (t) => {
    let now = Date.now();
    const dir = tempDir(t);
    const relay = await startTestRelay(t, { dataDir: dir, now: () => now, config: { sweepIntervalMs: 50 } });
    const done = await create(relay.url, blobSizeForFile(10));
    await put(relay.url, done, 0, random(blobSizeForFile(10)));
    const unfinished = await create(relay.url, blobSizeForFile(10_000));
    const files = () => readdirSync(join(dir, "relay-blobs")).sort();
    assert.deepEqual(files(), [done.blobId, unfinished.blobId].sort());
    now += 2 * 24 * 3_600_000; // past the upload window, within the TTL
    assert.equal((await status(relay.url, unfinished.blobId)).json["code"], "unknown_blob");
    assert.equal((await status(relay.url, done.blobId)).json["complete"], true);
    // The sweep removes the unfinished upload's row and bytes.
    for (let i = 0; i < 100 && files().length > 1; i++) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(files(), [done.blobId]);
    now += 15 * 24 * 3_600_000;
    assert.equal((await status(relay.url, done.blobId)).json["code"], "unknown_blob");
    for (let i = 0; i < 100 && files().length > 0; i++) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(files(), []);
    assert.equal(await relay.store.blobs.totalBytes(), 0, "no row left either");
  });

  it("refuse a flood of declarations beyond what uploads may be promised, and new blobs while storage is full", async (t) => {
    const relay = await startTestRelay(t, { config: { maxPendingBlobBytes: 3 * 2 ** 20 } });
    const size = blobSizeForFile(2 ** 20);
    await create(relay.url, size);
    await create(relay.url, size);
    const third = await postJson(`${relay.url}/v1/blobs`, { size });
    assert.equal(third.status, 507);
    assert.equal(third.json["code"], "storage_full");
    const full = await startTestRelay(t, {
      diskProbe: async () => ({ freeBytes: 0, totalBytes: 10 }),
    });
    const refused = await postJson(`${full.url}/v1/blobs`, { size: blobSizeForFile(10) });
    assert.deepEqual([refused.status, refused.json["code"]], [507, "storage_full"]);
    // Still up.
    assert.equal((await fetch(`${relay.url}/v1/health`)).status, 200);
  });
});
