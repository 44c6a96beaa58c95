/**
 * The HPKE seal pool (crypto/hpke-seal-pool.ts): large batches of seals shared with a worker thread,
 * and a lifetime that cannot hang a process — a worker that cannot start, never answers or dies
 * leaves every seal done on the main thread, each result correct; a process whose pool started its
 * worker exits by itself, whether the worker sealed anything or not.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { type SealJob, SealPool } from "../src/crypto/hpke-seal-pool.js";
import { nodeX25519Hpke, sealJob } from "../src/crypto/node-hpke.js";

const workerUrl = new URL("../src/crypto/hpke-seal-worker.js", import.meta.url);
/** A worker module given as source (data: URL): `body` runs after it says it is ready. */
const fakeWorker = (body: string) =>
  new URL(
    `data:text/javascript,${encodeURIComponent(
      `import { parentPort } from "node:worker_threads"; parentPort.postMessage({ id: -1, ready: true }); ${body}`,
    )}`,
  );

async function recipients(n: number) {
  return Promise.all(
    Array.from({ length: n }, async () => {
      const k = await nodeX25519Hpke.generateKeyPair();
      return { ...k, raw: await nodeX25519Hpke.exportPublicKey(k.publicKey) };
    }),
  );
}

const info = new TextEncoder().encode("EncryptContext of this test");

/** Seals one plaintext per recipient through `pool` and checks that each opens with its key. */
async function sealAndOpen(pool: SealPool, keys: Awaited<ReturnType<typeof recipients>>): Promise<void> {
  const jobs: SealJob[] = keys.map((k, i) => ({
    publicKey: k.raw,
    plaintext: new Uint8Array(32).fill(i & 0xff),
    info,
    aad: new Uint8Array(0),
  }));
  const sealed = await Promise.all(jobs.map((j) => pool.seal(j)));
  for (const [i, s] of sealed.entries()) {
    const pt = await nodeX25519Hpke.open(keys[i]!.privateKey, s.enc, s.ct, info, new Uint8Array(0));
    assert.deepEqual(pt, new Uint8Array(32).fill(i & 0xff), `seal ${i} opens`);
  }
}

async function until(f: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("HPKE seal pool", () => {
  it("once its worker is ready, a large batch is sealed partly there, every seal correct", async () => {
    const keys = await recipients(600);
    // A patient pool: on a loaded machine the worker's first chunk may take a while.
    const pool = new SealPool(sealJob, workerUrl, { patienceMs: 60_000 });
    pool.warm();
    await until(() => pool.active, 30_000);
    await sealAndOpen(pool, keys);
    assert.equal(pool.counts.here + pool.counts.worker, 600);
    assert.ok(pool.counts.worker > 0, "the worker sealed some");
    // A small batch stays on this thread.
    await sealAndOpen(pool, keys.slice(0, 10));
    assert.equal(pool.counts.here + pool.counts.worker, 610);
  });

  it("the first large batch of a process is shared as soon as the worker, started by it, is ready", async () => {
    // A CLI command makes one commit: before, the worker it started took nothing of that batch.
    // This thread seals slowly here (1 ms more per seal, ~3 s for the batch), so that the worker,
    // up in well under a second, must take part of it.
    const keys = await recipients(3000);
    const slowly = (job: SealJob) => {
      const end = performance.now() + 1;
      while (performance.now() < end);
      return sealJob(job);
    };
    const pool = new SealPool(slowly, workerUrl, { patienceMs: 60_000 });
    assert.equal(pool.active, false, "no worker before the batch");
    await sealAndOpen(pool, keys);
    assert.equal(pool.counts.here + pool.counts.worker, 3000);
    assert.ok(
      pool.counts.worker > 0,
      `the worker sealed some of the first batch (${JSON.stringify(pool.counts)})`,
    );
  });

  it("a job the worker cannot seal (an invalid public key) fails with the main thread's error", async () => {
    const keys = await recipients(300);
    const pool = new SealPool(sealJob, workerUrl, { offloadMin: 2 });
    pool.warm();
    await until(() => pool.active, 30_000);
    const jobs: SealJob[] = keys.map((k) => ({
      publicKey: k.raw,
      plaintext: new Uint8Array(32),
      info,
      aad: new Uint8Array(0),
    }));
    // The last job goes to the worker first (it takes chunks from the back).
    jobs[299] = { ...jobs[299]!, publicKey: new Uint8Array(31) };
    const results = await Promise.allSettled(jobs.map((j) => pool.seal(j)));
    assert.equal(results.filter((r) => r.status === "rejected").length, 1);
    const failed = results[299]!;
    assert.ok(failed.status === "rejected" && /32 bytes/.test(String(failed.reason)));
  });

  it("a process that started the worker exits on its own (worker idle, or used)", () => {
    const hpke = new URL("../src/crypto/node-hpke.js", import.meta.url).href;
    for (const waitMs of [0, 3000]) {
      // 300 seals after waitMs: at 0 the worker is still starting (it may take part), later it is used.
      const script = `
        const { nodeX25519Hpke: h, warmSealPool, sealPoolStatus } = await import(${JSON.stringify(hpke)});
        const keys = await Promise.all(Array.from({ length: 300 }, () => h.generateKeyPair()));
        warmSealPool();
        await new Promise((r) => setTimeout(r, ${waitMs}));
        await Promise.all(keys.map((k) => h.seal(k.publicKey, new Uint8Array(32), new Uint8Array(8))));
        // Time for the worker to be up (and ready) before this process has nothing left to do.
        await new Promise((r) => setTimeout(r, 1500));
        console.log(JSON.stringify(sealPoolStatus()));`;
      // A file, not --eval: a worker inherits --input-type, which a worker from a file refuses.
      const dir = mkdtempSync(join(tmpdir(), "parley-seal-pool-"));
      const file = join(dir, "exit.mjs");
      writeFileSync(file, script);
      const r = spawnSync(process.execPath, [file], { timeout: 60_000, encoding: "utf8" });
      rmSync(dir, { recursive: true, force: true });
      assert.equal(r.signal, null, `waited ${waitMs} ms: the process did not exit (${r.stdout}${r.stderr})`);
      assert.equal(r.status, 0, r.stderr);
      const status = JSON.parse(r.stdout) as { active: boolean; here: number; worker: number };
      assert.equal(status.here + status.worker, 300);
      assert.ok(status.active, "the worker was up");
      if (waitMs > 0) assert.ok(status.worker > 0, "and used");
    }
  });

  it("no worker module: every seal on this thread, and the pool is not used again", async () => {
    const keys = await recipients(300);
    const pool = new SealPool(sealJob, new URL("./no-such-worker.js", import.meta.url));
    pool.warm();
    await new Promise((r) => setTimeout(r, 200));
    await sealAndOpen(pool, keys);
    assert.equal(pool.counts.here, 300);
    assert.equal(pool.active, false);
  });

  it("a worker that never answers: its chunk is sealed here after the deadline, nothing hangs", async () => {
    const keys = await recipients(300);
    const pool = new SealPool(sealJob, fakeWorker(`parentPort.on("message", () => {});`), {
      patienceMs: 100,
    });
    pool.warm();
    await until(() => pool.active, 30_000);
    const t = Date.now();
    await sealAndOpen(pool, keys);
    assert.ok(Date.now() - t < 20_000);
    assert.equal(pool.counts.here, 300);
    assert.equal(pool.active, false, "dropped after a missed deadline");
  });

  it("a worker that dies with a chunk: that chunk is sealed here", async () => {
    const keys = await recipients(300);
    const pool = new SealPool(sealJob, fakeWorker(`parentPort.on("message", () => process.exit(3));`));
    pool.warm();
    await until(() => pool.active, 30_000);
    await sealAndOpen(pool, keys);
    assert.equal(pool.counts.here, 300);
    assert.equal(pool.active, false);
  });
});
