/**
 * Quotas that need no client identity (docs/relay-operations.md, "Quotas"): per-queue caps, the
 * disk and database watermark, proof of work for creation, and the per-WebSocket command rate.
 */
import assert from "node:assert/strict";
import { connect } from "node:net";
import { describe, it } from "node:test";
import {
  createQueueBytes,
  formatPowStamp,
  leadingZeroBits,
  POW_HEADER,
  powDigest,
  solvePow,
} from "@parley/protocol";
import type { DiskSpace } from "../src/index.js";
import {
  byId,
  command,
  createQueue,
  envelope,
  newKey,
  openSocket,
  postBytes,
  postJson,
  signCommand,
  signCreate,
  startTestRelay,
} from "./helpers.js";

const GIB = 1024 ** 3;
const send = (url: string, sendId: string, size = 512) =>
  postBytes(`${url}/v1/send/${sendId}`, envelope(size));

async function postWithStamp(url: string, body: Uint8Array | object, stamp?: string) {
  const binary = body instanceof Uint8Array;
  const res = await fetch(url, {
    method: "POST",
    headers: {
      "content-type": binary ? "application/octet-stream" : "application/json",
      ...(stamp === undefined ? {} : { [POW_HEADER]: stamp }),
    },
    body: binary ? body : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

describe("per-queue caps", () => {
  it("refuses a send past a queue's message cap with 507 queue_full, until the recipient acknowledges", async (t) => {
    const relay = await startTestRelay(t, { config: { maxQueueMessages: 3, sweepIntervalMs: 0 } });
    const q = await createQueue(relay.url);
    const other = await createQueue(relay.url);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await send(relay.url, q.sendId);
      assert.equal(r.status, 202);
      ids.push(r.json["msgId"] as string);
    }
    const full = await send(relay.url, q.sendId);
    assert.equal(full.status, 507);
    assert.equal(full.json["code"], "queue_full");
    assert.equal((await send(relay.url, other.sendId)).status, 202, "other queues are not affected");

    const ack = await command(relay.url, signCommand(q.key, "ack", q.queueId, { msgId: ids[0]! }));
    assert.equal(ack.status, 200);
    assert.equal((await send(relay.url, q.sendId)).status, 202, "room again after an ack");
    assert.equal((await send(relay.url, q.sendId)).status, 507);
    const fetched = await command(relay.url, signCommand(q.key, "fetch", q.queueId));
    assert.equal((fetched.json["messages"] as unknown[]).length, 3, "nothing past the cap was stored");
  });

  it("refuses a send past a queue's byte cap", async (t) => {
    const relay = await startTestRelay(t, {
      config: { maxQueueBytes: 8192, maxMessageBytes: 8192, sweepIntervalMs: 0 },
    });
    const q = await createQueue(relay.url);
    assert.equal((await send(relay.url, q.sendId, 2048)).status, 202);
    assert.equal((await send(relay.url, q.sendId, 2048)).status, 202);
    assert.equal((await send(relay.url, q.sendId, 2048)).status, 202);
    assert.equal((await send(relay.url, q.sendId, 2048)).status, 202, "exactly at the cap");
    const over = await send(relay.url, q.sendId, 512);
    assert.deepEqual([over.status, over.json["code"]], [507, "queue_full"]);
    assert.deepEqual(await relay.store.queueUsage(q.queueId), { messages: 4, bytes: 8192 });

    // A full queue is refused on the headers alone: the relay does not read an 8 KiB body (or an
    // 8 MiB one) to say no. Only the headers are sent; the answer comes anyway.
    const url = new URL(relay.url);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(url.port), url.hostname);
      let text = "";
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`no answer before the body was sent: ${text}`));
      }, 5_000);
      socket.on("data", (d) => {
        text += d;
        if (text.includes("\r\n\r\n")) {
          clearTimeout(timer);
          socket.destroy();
          resolve(text);
        }
      });
      socket.on("error", reject);
      socket.write(
        `POST /v1/send/${q.sendId} HTTP/1.1\r\nHost: ${url.host}\r\n` +
          "Content-Type: application/octet-stream\r\nContent-Length: 8192\r\n\r\n",
      );
    });
    assert.match(answer, /^HTTP\/1\.1 507 /);
  });
});

describe("storage watermark", () => {
  /** A disk whose free space the test sets; counts how often it is read. */
  function fakeDisk(totalBytes = 100 * GIB) {
    const disk = {
      freeBytes: 50 * GIB,
      reads: 0,
      probe: async (): Promise<DiskSpace> => {
        disk.reads++;
        return { freeBytes: disk.freeBytes, totalBytes };
      },
    };
    return disk;
  }

  it("refuses sends, new queues and invites with 507 storage_full while the disk is nearly full; reads, acks and deletes go on", async (t) => {
    const disk = fakeDisk();
    const relay = await startTestRelay(t, {
      diskProbe: disk.probe,
      config: { storageCheckIntervalMs: 0, sweepIntervalMs: 0 },
    });
    const q = await createQueue(relay.url);
    const sent = await send(relay.url, q.sendId);
    assert.equal(sent.status, 202);
    const invite = await postBytes(`${relay.url}/v1/invites`, new Uint8Array(100));
    assert.equal(invite.status, 201);

    disk.freeBytes = GIB - 1; // below the default 1 GiB
    for (const refused of [
      await send(relay.url, q.sendId),
      await postJson(`${relay.url}/v1/queues`, signCreate(newKey())),
      await postBytes(`${relay.url}/v1/invites`, new Uint8Array(100)),
    ]) {
      assert.deepEqual([refused.status, refused.json["code"]], [507, "storage_full"]);
    }
    const fetched = await command(relay.url, signCommand(q.key, "fetch", q.queueId));
    assert.equal(fetched.status, 200);
    assert.equal((fetched.json["messages"] as unknown[]).length, 1);
    const ack = await command(
      relay.url,
      signCommand(q.key, "ack", q.queueId, { msgId: sent.json["msgId"] as string }),
    );
    assert.equal(ack.status, 200);
    const claim = await fetch(`${relay.url}/v1/invites/${invite.json["inviteId"] as string}/claim`, {
      method: "POST",
    });
    assert.equal(claim.status, 200);
    await claim.arrayBuffer();
    assert.equal((await command(relay.url, signCommand(q.key, "del", q.queueId))).status, 200);

    disk.freeBytes = 2 * GIB;
    const again = await createQueue(relay.url);
    assert.equal((await send(relay.url, again.sendId)).status, 202, "writes resume once space is free");
  });

  it("takes a share of the filesystem as the floor (--min-free-disk 5%)", async (t) => {
    const disk = fakeDisk(100 * GIB);
    const relay = await startTestRelay(t, {
      diskProbe: disk.probe,
      config: { storageCheckIntervalMs: 0, minFreeDiskBytes: 0, minFreeDiskFraction: 0.05 },
    });
    const q = await createQueue(relay.url);
    disk.freeBytes = 6 * GIB;
    assert.equal((await send(relay.url, q.sendId)).status, 202);
    disk.freeBytes = 4 * GIB;
    assert.equal((await send(relay.url, q.sendId)).json["code"], "storage_full");
  });

  it("reads the disk at most once per interval, not per request", async (t) => {
    const disk = fakeDisk();
    let now = Date.now();
    const relay = await startTestRelay(t, {
      diskProbe: disk.probe,
      now: () => now,
      config: { sweepIntervalMs: 0 },
    });
    const q = await createQueue(relay.url, newKey(), {});
    await Promise.all(Array.from({ length: 20 }, () => send(relay.url, q.sendId)));
    assert.equal(disk.reads, 1);
    disk.freeBytes = 0;
    assert.equal((await send(relay.url, q.sendId)).status, 202, "the reading is still fresh");
    now += 2000;
    assert.equal((await send(relay.url, q.sendId)).status, 507);
    assert.equal(disk.reads, 2);
  });

  it("refuses new data while the database holds more than --max-db-bytes, and takes it again once acks free space", async (t) => {
    const relay = await startTestRelay(t, {
      config: { maxDbBytes: 1024 * 1024, storageCheckIntervalMs: 0, sweepIntervalMs: 0 },
    });
    const q = await createQueue(relay.url);
    const ids: string[] = [];
    let refused: Record<string, unknown> | undefined;
    for (let i = 0; i < 60 && !refused; i++) {
      const r = await send(relay.url, q.sendId, 32 * 1024);
      if (r.status === 202) ids.push(r.json["msgId"] as string);
      else refused = { status: r.status, ...r.json };
    }
    // An empty database is ~250 KiB (a 16 KiB page or more per table and index: PAGE_SIZE).
    assert.ok(ids.length >= 18 && ids.length <= 28, `stored ${ids.length} × 32 KiB under a 1 MiB limit`);
    assert.equal(refused?.["status"], 507);
    assert.equal(refused?.["code"], "storage_full");
    for (const msgId of ids) {
      assert.equal((await command(relay.url, signCommand(q.key, "ack", q.queueId, { msgId }))).status, 200);
    }
    assert.equal((await send(relay.url, q.sendId, 32 * 1024)).status, 202);
  });
});

describe("proof of work for queue and invite creation", () => {
  const BITS = 8;

  it("is off by default: creation needs no stamp, GET /v1/pow says 0 bits", async (t) => {
    const relay = await startTestRelay(t);
    assert.deepEqual(await (await fetch(`${relay.url}/v1/pow`)).json(), { bits: 0 });
    assert.equal((await postJson(`${relay.url}/v1/queues`, signCreate(newKey()))).status, 201);
    assert.equal((await postBytes(`${relay.url}/v1/invites`, new Uint8Array(10))).status, 201);
  });

  it("refuses creation without a valid, fresh, unused stamp bound to the request (429 pow_required)", async (t) => {
    let now = Date.now();
    const relay = await startTestRelay(t, { now: () => now, config: { powBits: BITS } });
    const params = (await (await fetch(`${relay.url}/v1/pow`)).json()) as { bits: number; challenge: string };
    assert.equal(params.bits, BITS);
    assert.match(params.challenge, /^\d+\.[A-Za-z0-9_-]{22}$/);

    const req = signCreate(newKey(), { ts: now });
    const bare = await postWithStamp(`${relay.url}/v1/queues`, req);
    assert.equal(bare.status, 429);
    assert.equal(bare.json["code"], "pow_required");
    const pow = bare.json["pow"] as { bits: number; challenge: string };
    assert.equal(pow.bits, BITS);

    const solved = await solvePow(pow.challenge, BITS, createQueueBytes(req));
    const stamp = formatPowStamp(solved);
    // With so few bits a stamp passes for another request by chance once in 2^BITS: pick one it
    // really does not pass for, so the check below cannot fail (or pass) by luck.
    const passesFor = (s: typeof solved, bytes: Uint8Array) => leadingZeroBits(powDigest(s, bytes)) >= BITS;
    // A stamp for another request (another key) does not pass.
    let otherReq = signCreate(newKey(), { ts: now });
    while (passesFor(solved, createQueueBytes(otherReq))) otherReq = signCreate(newKey(), { ts: now });
    const misbound = await postWithStamp(`${relay.url}/v1/queues`, otherReq, stamp);
    assert.deepEqual([misbound.status, misbound.json["code"]], [429, "pow_required"]);

    const ok = await postWithStamp(`${relay.url}/v1/queues`, req, stamp);
    assert.equal(ok.status, 201);
    const replayed = await postWithStamp(`${relay.url}/v1/queues`, req, stamp);
    assert.deepEqual([replayed.status, replayed.json["code"]], [429, "pow_required"]);
    assert.match(replayed.json["error"] as string, /already used/);

    // Invites: the stamp binds the blob; the same blob and stamp twice is one invite.
    const blob = new Uint8Array(300).fill(4);
    assert.equal((await postWithStamp(`${relay.url}/v1/invites`, blob)).status, 429);
    const inviteSolved = await solvePow(pow.challenge, BITS, blob);
    const inviteStamp = formatPowStamp(inviteSolved);
    let fill = 5;
    while (passesFor(inviteSolved, new Uint8Array(300).fill(fill))) fill++;
    assert.equal(
      (await postWithStamp(`${relay.url}/v1/invites`, new Uint8Array(300).fill(fill), inviteStamp)).status,
      429,
    );
    assert.equal((await postWithStamp(`${relay.url}/v1/invites`, blob, inviteStamp)).status, 201);
    assert.equal((await postWithStamp(`${relay.url}/v1/invites`, blob, inviteStamp)).status, 429);

    // A challenge the relay did not issue, or one that has expired, is refused.
    const forged = formatPowStamp(
      await solvePow(`${params.challenge.split(".")[0]}.AAAAAAAAAAAAAAAAAAAAAA`, BITS, blob),
    );
    assert.equal((await postWithStamp(`${relay.url}/v1/invites`, blob, forged)).status, 429);
    const late = formatPowStamp(await solvePow(pow.challenge, BITS, new Uint8Array(3)));
    now += 5 * 60 * 1000;
    const expired = await postWithStamp(`${relay.url}/v1/invites`, new Uint8Array(3), late);
    assert.deepEqual([expired.status, expired.json["code"]], [429, "pow_required"]);
    assert.notEqual(
      (expired.json["pow"] as { challenge: string }).challenge,
      pow.challenge,
      "a fresh challenge",
    );
    // Garbage in the header is a refusal, not an error.
    assert.equal((await postWithStamp(`${relay.url}/v1/invites`, blob, "x:y")).status, 429);
  });
});

describe("per-WebSocket command rate", () => {
  it("answers commands beyond the connection's burst with err busy, and serves it again once it slows down", async (t) => {
    let now = Date.now();
    const relay = await startTestRelay(t, {
      now: () => now,
      config: { wsCommandBurst: 5, wsCommandRate: 10 },
    });
    const q = await createQueue(relay.url);
    const ws = await openSocket(relay.url);
    t.after(() => ws.close());
    for (let id = 1; id <= 8; id++) ws.send({ ...signCommand(q.key, "fetch", q.queueId, { ts: now }), id });
    const replies = [];
    for (let id = 1; id <= 8; id++) replies.push(await ws.next(byId(id)));
    assert.deepEqual(
      replies.map((f) => (f["type"] === "ok" ? "ok" : f["code"])),
      ["ok", "ok", "ok", "ok", "ok", "busy", "busy", "busy"],
    );
    now += 200; // two tokens back at 10 per second
    ws.send({ ...signCommand(q.key, "fetch", q.queueId, { ts: now }), id: 9 });
    ws.send({ ...signCommand(q.key, "fetch", q.queueId, { ts: now }), id: 10 });
    ws.send({ ...signCommand(q.key, "fetch", q.queueId, { ts: now }), id: 11 });
    assert.equal((await ws.next(byId(9)))["type"], "ok");
    assert.equal((await ws.next(byId(10)))["type"], "ok");
    assert.equal((await ws.next(byId(11)))["code"], "busy");
  });
});
