import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { BLOB_CAP_HEADER, blobSizeForFile } from "@parley/protocol";
import { type Cleanup, startRelayProcess } from "@parley/testkit";
import { createQueue, envelope, postBytes, postJson, startTestRelay, tempDir } from "./helpers.js";

const MAIN = fileURLToPath(new URL("../src/main.js", import.meta.url));

function run(args: string[]) {
  const r = spawnSync(process.execPath, [MAIN, ...args], {
    encoding: "utf8",
    timeout: 20_000,
    killSignal: "SIGKILL",
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Starts the built bin (@parley/testkit: its own process group, stopped when the test ends). */
const spawnRelay = (t: Cleanup, dataDir: string, args: string[]) =>
  startRelayProcess({ dataDir, args, cleanup: t });

describe("parley-server bin", () => {
  it("runs on port 0, prints the real address, serves, and exits cleanly on SIGTERM", async (t) => {
    const dir = tempDir(t);
    const { child, url, stdout, exited } = await spawnRelay(t, `${dir}/data`, ["--ttl-days", "3"]);
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(url, "http://127.0.0.1:0");
    const health = await fetch(`${url}/v1/health`);
    assert.equal(health.status, 200);
    const { sendId } = await createQueue(url);
    assert.equal((await postBytes(`${url}/v1/send/${sendId}`, envelope(512))).status, 202);

    child.kill("SIGTERM");
    const { code, signal } = await exited(20_000);
    assert.equal(signal, null, "exited by itself, not killed by the signal");
    assert.equal(code, 0);
    assert.equal(stdout().trim().split("\n").length, 1, "stdout is just the ready line");
  });

  it("takes the quota flags: a queue cap and a disk floor refuse sends, proof of work guards creation", async (t) => {
    const dir = tempDir(t);
    const start = (extra: string[]) => spawnRelay(t, `${dir}/data`, ["--max-queue-bytes", "8MiB", ...extra]);
    const capped = await start([
      "--max-queue-messages",
      "1",
      "--max-db-bytes",
      "1GiB",
      "--min-free-disk",
      "0",
    ]);
    const { sendId } = await createQueue(capped.url);
    assert.equal((await postBytes(`${capped.url}/v1/send/${sendId}`, envelope(512))).status, 202);
    const full = await postBytes(`${capped.url}/v1/send/${sendId}`, envelope(512));
    assert.deepEqual([full.status, full.json["code"]], [507, "queue_full"]);
    capped.kill();
    await capped.exited(10_000);

    // No filesystem has 99.9% free: every write is refused. And creation needs a stamp.
    const guarded = await start(["--min-free-disk", "99.9%", "--pow-bits", "12", "--ws-command-rate", "5"]);
    const refused = await postBytes(`${guarded.url}/v1/invites`, new Uint8Array(10));
    assert.deepEqual([refused.status, refused.json["code"]], [507, "storage_full"]);
    assert.deepEqual(
      await (await fetch(`${guarded.url}/v1/pow`)).json().then((j) => (j as { bits: number }).bits),
      12,
    );

    const bad = run(["--pow-bits", "33"]);
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /--pow-bits/);
    assert.match(run(["--max-queue-bytes", "lots"]).stderr, /--max-queue-bytes/);
  });

  it("takes an id that starts with '-' as an id, not an option", (t) => {
    const dataDir = tempDir(t);
    for (const id of ["-abcdefghijklmnopqrstu", `-${"a".repeat(42)}`]) {
      const r = run(["disclose", id, "--data", dataDir]);
      // Read as the id: it gets as far as looking for the (here missing) database.
      assert.doesNotMatch(r.stderr, /unknown option/);
      assert.match(r.stderr, /no relay database/);
    }
  });

  it("opens the store named by --store, and refuses an unknown scheme or --store with --data", async (t) => {
    const dir = `${tempDir(t)}/by-url`;
    const { url, stdout } = await spawnRelay(t, dir, ["--store", `sqlite:${dir}`]);
    assert.match(stdout(), new RegExp(`\\(data: ${dir}\\)`));
    assert.equal((await fetch(`${url}/v1/health`)).status, 200);
    assert.ok(existsSync(`${dir}/relay.sqlite`));
    const unknown = run(["--port", "0", "--store", "mysql://db.example/parley"]);
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /unknown store "mysql:"/);
    const bus = run(["--port", "0", "--store", "sqlite::memory:", "--bus", "amqp://localhost"]);
    assert.equal(bus.status, 2);
    assert.match(bus.stderr, /unknown bus "amqp:"/);
    // A known backend that cannot be reached is a bad argument too.
    const unreachable = run(["--port", "0", "--store", "sqlite::memory:", "--bus", "nats://127.0.0.1:1"]);
    assert.equal(unreachable.status, 2);
    assert.match(unreachable.stderr, /cannot connect to nats:/);
    const both = run(["--port", "0", "--store", `sqlite:${dir}`, "--data", dir]);
    assert.equal(both.status, 2);
    assert.match(both.stderr, /--store or --data/);
  });

  it("refuses bad options with a clear message", () => {
    const r = run(["--port", "99999"]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /--port/);
    const help = run(["--help"]);
    assert.equal(help.status, 0);
    assert.match(help.stdout, /disclose/);
    const serveHelp = run(["serve", "--help"]);
    for (const flag of ["--port", "--host", "--data", "--ttl-days", "--max-message-bytes", "--static"]) {
      assert.match(serveHelp.stdout, new RegExp(flag));
    }
  });

  it("disclose prints what the relay holds about one queue, and nothing about others", async (t) => {
    const dataDir = tempDir(t);
    const relay = await startTestRelay(t, { dataDir });
    const mine = await createQueue(relay.url);
    const other = await createQueue(relay.url);
    const sent = await postBytes(`${relay.url}/v1/send/${mine.sendId}`, envelope(2048, 3));
    const otherSent = await postBytes(`${relay.url}/v1/send/${other.sendId}`, envelope(512, 4));
    const msgId = sent.json["msgId"] as string;

    // While the relay is still running: disclose only reads.
    for (const id of [mine.queueId, mine.sendId, mine.key.publicKey]) {
      const r = run(["disclose", id, "--data", dataDir]);
      assert.equal(r.status, 0, r.stderr);
      for (const held of [mine.queueId, mine.sendId, mine.key.publicKey, msgId])
        assert.match(r.stdout, new RegExp(held));
      assert.match(r.stdout, /2048 bytes of padded ciphertext/);
      assert.match(r.stdout, /pending messages: 1/);
      for (const notMine of [
        other.queueId,
        other.sendId,
        other.key.publicKey,
        otherSent.json["msgId"] as string,
      ]) {
        assert.ok(!r.stdout.includes(notMine), `output mentions another queue's ${notMine}`);
      }
    }

    const json = run(["disclose", mine.sendId, "--data", dataDir, "--json"]);
    assert.equal(json.status, 0, json.stderr);
    const parsed = JSON.parse(json.stdout);
    assert.equal(parsed.queues.length, 1);
    assert.equal(parsed.queues[0].queueId, mine.queueId);
    assert.deepEqual(Object.keys(parsed.queues[0]).sort(), [
      "keptIfUnusedUntil",
      "lastSeq",
      "messages",
      "mode",
      "nonces",
      "queueId",
      "recipientKey",
      "sendId",
    ]);
    assert.equal(parsed.queues[0].mode, "unicast");
    assert.equal(parsed.queues[0].lastSeq, parsed.queues[0].messages[0].seq);
    assert.equal(parsed.queues[0].messages.length, 1);
    assert.equal(parsed.queues[0].messages[0].bytes, 2048);
    assert.deepEqual(
      Buffer.from(parsed.queues[0].messages[0].body, "base64url"),
      Buffer.from(envelope(2048, 3)),
    );
    assert.deepEqual(parsed.invites, []);

    const nothing = run(["disclose", "AAAAAAAAAAAAAAAAAAAAAA", "--data", dataDir]);
    assert.equal(nothing.status, 0);
    assert.match(nothing.stdout, /holds nothing/);
    const bad = run(["disclose", "not-an-id", "--data", dataDir]);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /not a queue id/);
    const noDb = run(["disclose", mine.queueId, "--data", `${dataDir}/missing`]);
    assert.equal(noDb.status, 2);
    assert.match(noDb.stderr, /no relay database/);
  });

  it("disclose shows a blob by its id, and --all-blobs lists every blob: sizes, state, expiry, nothing else", async (t) => {
    const dataDir = tempDir(t);
    const relay = await startTestRelay(t, { dataDir });
    const size = blobSizeForFile(1000);
    const create = async () =>
      (await postJson(`${relay.url}/v1/blobs`, { size })).json as {
        blobId: string;
        writeCap: string;
        deleteCap: string;
      };
    const done = await create();
    const put = await fetch(`${relay.url}/v1/blobs/${done.blobId}?offset=0`, {
      method: "PUT",
      headers: { "content-type": "application/octet-stream", [BLOB_CAP_HEADER]: done.writeCap },
      body: new Uint8Array(size).fill(7),
    });
    assert.equal(put.status, 200);
    const pending = await create();
    const deleted = await create();
    const del = await fetch(`${relay.url}/v1/blobs/${deleted.blobId}`, {
      method: "DELETE",
      headers: { [BLOB_CAP_HEADER]: deleted.deleteCap },
    });
    assert.equal(del.status, 200);

    const one = run(["disclose", done.blobId, "--data", dataDir]);
    assert.equal(one.status, 0, one.stderr);
    assert.match(one.stdout, new RegExp(`blob id +${done.blobId}`));
    assert.match(one.stdout, new RegExp(`${size} bytes of padded ciphertext`));
    assert.match(one.stdout, /complete/);
    assert.ok(!one.stdout.includes(pending.blobId), "only the blob asked about");
    for (const cap of [done.writeCap, done.deleteCap]) assert.ok(!one.stdout.includes(cap), "no capability");

    const all = run(["disclose", "--all-blobs", "--data", dataDir]);
    assert.equal(all.status, 0, all.stderr);
    assert.match(all.stdout, /Blobs this relay holds: 3/);
    for (const b of [done, pending, deleted]) assert.match(all.stdout, new RegExp(b.blobId));
    assert.match(all.stdout, /upload in progress: 0 of/);
    assert.match(all.stdout, /deleted early by its uploader/);

    const json = JSON.parse(run(["disclose", "--all-blobs", "--data", dataDir, "--json"]).stdout);
    const byId = new Map(json.blobs.map((b: { blobId: string }) => [b.blobId, b]));
    assert.deepEqual(Object.keys(byId.get(done.blobId) as object).sort(), [
      "blobId",
      "bytes",
      "complete",
      "deleteCapHash",
      "deletedByUploader",
      "expiresAt",
      "received",
      "writeCapHash",
    ]);
    assert.equal((byId.get(deleted.blobId) as { deletedByUploader: boolean }).deletedByUploader, true);
    const queueOnly = JSON.parse(
      run(["disclose", (await createQueue(relay.url)).queueId, "--data", dataDir, "--json"]).stdout,
    );
    assert.deepEqual(queueOnly.blobs, [], "nothing links a queue to a blob");
  });
});
