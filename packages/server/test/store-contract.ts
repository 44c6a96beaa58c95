/**
 * The behaviour every Store backend must have. Each backend's test file calls `storeContract`
 * with a way to open a fresh, empty store; a new backend (PostgreSQL) adds one call.
 */
import assert from "node:assert/strict";
import { describe, it, type TestContext } from "node:test";
import type { Store, StoredMessage } from "../src/index.js";
import { newKey, stored } from "./helpers.js";

export type OpenStore = (t: TestContext) => Promise<Store>;

const T0 = 1_700_000_000_000;
const HOUR = 3_600_000;
const bytes = (n: number, fill: number) => new Uint8Array(n).fill(fill);
const ID = /^[A-Za-z0-9_-]{22}$/;
/** Backends may return Buffers or plain Uint8Arrays; only the bytes matter. */
function plain(value: unknown): unknown {
  if (value instanceof Uint8Array) return { bytes: Array.from(value) };
  if (Array.isArray(value)) return value.map(plain);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  }
  return value;
}

export interface ContractOptions {
  /** Bodies of 512 bytes are kept inline (not in files), so enqueue hands them to onReadable. */
  inlineBodies?: boolean;
}

export function storeContract(backend: string, open: OpenStore, options: ContractOptions = {}): void {
  const inlineBodies = options.inlineBodies ?? true;
  describe(`Store contract: ${backend}`, () => {
    it("creates queues with unrelated random ids and finds them by queue id and by send id", async (t) => {
      const store = await open(t);
      const key = newKey().publicKey;
      const a = await store.createQueue(key, T0 + HOUR);
      const b = await store.createQueue(newKey().publicKey, T0 + HOUR);
      assert.match(a.queueId, ID);
      assert.match(a.sendId, ID);
      assert.notEqual(a.queueId, a.sendId);
      assert.notEqual(a.queueId, b.queueId);
      assert.deepEqual(await store.getQueue(a.queueId), {
        ...a,
        recipientKey: key,
        idleUntil: T0 + HOUR,
        broadcast: false,
      });
      assert.deepEqual(await store.getQueueBySendId(a.sendId), await store.getQueue(a.queueId));
      assert.equal(await store.getQueue(a.sendId), null, "a send id is not a queue id");
      assert.equal(await store.getQueueBySendId(a.queueId), null, "a queue id is not a send id");
      assert.equal(await store.getQueue("AAAAAAAAAAAAAAAAAAAAAA"), null);
    });

    it("returns pending messages oldest first, per queue, honouring limit and maxBytes", async (t) => {
      const store = await open(t);
      const q = await store.createQueue(newKey().publicKey, T0);
      const other = await store.createQueue(newKey().publicKey, T0);
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        const r = await stored(store.enqueue(q.sendId, bytes(512, i + 1), T0 + HOUR));
        assert.equal(r.queueId, q.queueId);
        assert.match(r.msgId, ID);
        ids.push(r.msgId);
      }
      await store.enqueue(other.sendId, bytes(512, 99), T0 + HOUR);
      assert.equal(new Set(ids).size, 5);

      const all = await store.fetchPending(q.queueId, { limit: 100 });
      assert.deepEqual(
        all.map((m) => m.msgId),
        ids,
      );
      assert.deepEqual(
        all.map((m) => m.body[0]),
        [1, 2, 3, 4, 5],
      );
      assert.equal(all[0]!.body.length, 512);
      assert.equal(all[0]!.expiresAt, T0 + HOUR);

      assert.deepEqual(
        (await store.fetchPending(q.queueId, { limit: 2 })).map((m) => m.msgId),
        ids.slice(0, 2),
      );
      // Two 512-byte bodies fit in 1100 bytes, a third does not.
      assert.equal((await store.fetchPending(q.queueId, { limit: 100, maxBytes: 1100 })).length, 2);
      // The first message always comes, however small the budget, so a queue can be drained.
      assert.equal((await store.fetchPending(q.queueId, { limit: 100, maxBytes: 1 })).length, 1);
      assert.deepEqual(
        (await store.fetchPending(other.queueId, { limit: 100 })).map((m) => m.body[0]),
        [99],
      );
    });

    it("refuses to enqueue to an unknown send id", async (t) => {
      const store = await open(t);
      const q = await store.createQueue(newKey().publicKey, T0);
      assert.deepEqual(await store.enqueue("AAAAAAAAAAAAAAAAAAAAAA", bytes(512, 1), T0), {
        status: "unknown_queue",
      });
      assert.deepEqual(
        await store.enqueue(q.queueId, bytes(512, 1), T0),
        { status: "unknown_queue" },
        "the queue id is not a send address",
      );
    });

    it("ack deletes exactly one message of that queue", async (t) => {
      const store = await open(t);
      const q = await store.createQueue(newKey().publicKey, T0);
      const other = await store.createQueue(newKey().publicKey, T0);
      const m1 = await stored(store.enqueue(q.sendId, bytes(512, 1), T0 + HOUR));
      const m2 = await stored(store.enqueue(q.sendId, bytes(512, 2), T0 + HOUR));
      assert.equal(await store.ack(other.queueId, m1.msgId), false, "not through another queue");
      assert.equal(await store.ack(q.queueId, m1.msgId), true);
      assert.equal(await store.ack(q.queueId, m1.msgId), false, "already gone");
      assert.deepEqual(
        (await store.fetchPending(q.queueId, { limit: 10 })).map((m) => m.msgId),
        [m2.msgId],
      );
    });

    it("ackMany deletes, in one write, the listed messages that queue holds and returns their ids", async (t) => {
      const store = await open(t);
      const q = await store.createQueue(newKey().publicKey, T0 + HOUR);
      const other = await store.createQueue(newKey().publicKey, T0 + HOUR);
      const group = await store.createQueue(newKey().publicKey, T0 + HOUR, { broadcast: true });
      const held: string[] = [];
      for (let i = 0; i < 4; i++)
        held.push((await stored(store.enqueue(q.sendId, bytes(512, i), T0 + HOUR))).msgId);
      const theirs = await stored(store.enqueue(other.sendId, bytes(2048, 9), T0 + HOUR));
      const shared = await stored(store.enqueue(group.sendId, bytes(512, 8), T0 + HOUR));
      const never = "AAAAAAAAAAAAAAAAAAAAAA";

      const deleted = await store.ackMany(q.queueId, [held[2]!, theirs.msgId, held[0]!, never]);
      assert.deepEqual(new Set(deleted), new Set([held[0], held[2]]), "only this queue's, only those held");
      assert.deepEqual(
        (await store.fetchPending(q.queueId, { limit: 10 })).map((m) => m.msgId),
        [held[1], held[3]],
      );
      assert.deepEqual(await store.queueUsage(q.queueId), { messages: 2, bytes: 1024 });
      assert.deepEqual(await store.queueUsage(other.queueId), { messages: 1, bytes: 2048 }, "untouched");
      assert.equal((await store.fetchPending(other.queueId, { limit: 10 })).length, 1);

      assert.deepEqual(await store.ackMany(q.queueId, [held[0]!, held[2]!]), [], "played again: nothing");
      assert.deepEqual(await store.ackMany(group.queueId, [shared.msgId]), [], "broadcast: not deleted");
      assert.deepEqual(await store.queueUsage(group.queueId), { messages: 1, bytes: 512 });
      assert.deepEqual(await store.ackMany(never, [held[1]!]), [], "no such queue");
      assert.deepEqual(await store.queueUsage(q.queueId), { messages: 2, bytes: 1024 });
    });

    it("ackMany called for many queues at once gives each call its own deletions, and each message once", async (t) => {
      const store = await open(t);
      const queues = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          store.createQueue(newKey().publicKey, T0 + HOUR, { broadcast: i === 11 }),
        ),
      );
      const held = await Promise.all(
        queues.map(async (q, i) => {
          const ids: string[] = [];
          for (let j = 0; j < 3; j++)
            ids.push((await stored(store.enqueue(q.sendId, bytes(512, i * 3 + j), T0 + HOUR))).msgId);
          return ids;
        }),
      );
      // All at once (a backend may put them in one statement): queue i acknowledges its first two,
      // one also names another queue's message, and two calls on queue 0 name the same message.
      const calls = queues.map((q, i) =>
        store.ackMany(q.queueId, i === 1 ? [held[1]![0]!, held[2]![0]!, held[1]![1]!] : held[i]!.slice(0, 2)),
      );
      const again = store.ackMany(queues[0]!.queueId, [held[0]![1]!, held[0]![2]!]);
      const results = await Promise.all(calls);
      const repeat = await again;
      for (let i = 0; i < 11; i++) {
        const expected = i === 0 ? [held[0]![0]!] : [held[i]![0]!, held[i]![1]!];
        if (i === 0) {
          // held[0][1] was named by both calls on queue 0: exactly one of them reports it.
          const both = [...results[0]!, ...repeat].filter((id) => id === held[0]![1]);
          assert.equal(both.length, 1, "a message deleted once is reported once");
          assert.ok(results[0]!.includes(held[0]![0]!) && repeat.includes(held[0]![2]!));
        } else assert.deepEqual(new Set(results[i]), new Set(expected), `queue ${i}: its own only`);
        const left = i === 0 ? [] : [held[i]![2]!];
        assert.deepEqual(
          (await store.fetchPending(queues[i]!.queueId, { limit: 10 })).map((m) => m.msgId),
          left,
          `queue ${i}: what is left`,
        );
        assert.deepEqual(await store.queueUsage(queues[i]!.queueId), {
          messages: left.length,
          bytes: 512 * left.length,
        });
      }
      assert.deepEqual(results[11], [], "broadcast: nothing deleted");
      assert.deepEqual(await store.queueUsage(queues[11]!.queueId), { messages: 3, bytes: 1536 });
    });

    it("keeps enqueue order after a queue has been emptied", async (t) => {
      const store = await open(t);
      const q = await store.createQueue(newKey().publicKey, T0);
      const first = await stored(store.enqueue(q.sendId, bytes(512, 1), T0 + HOUR));
      await store.ack(q.queueId, first.msgId);
      const later = [];
      for (let i = 0; i < 3; i++)
        later.push((await stored(store.enqueue(q.sendId, bytes(512, 10 + i), T0 + HOUR))).msgId);
      await store.ack(q.queueId, later[0]!);
      later.push((await stored(store.enqueue(q.sendId, bytes(512, 20), T0 + HOUR))).msgId);
      assert.deepEqual(
        (await store.fetchPending(q.queueId, { limit: 10 })).map((m) => m.msgId),
        later.slice(1),
      );
    });

    it("never hands out a position again, even once acks have emptied the queue", async (t) => {
      const store = await open(t);
      const q = await store.createQueue(newKey().publicKey, T0 + 10 * HOUR);
      const seen: number[] = [];
      for (let i = 0; i < 3; i++) {
        const m = await stored(store.enqueue(q.sendId, bytes(512, i), T0 + HOUR));
        seen.push((await store.positionOf(q.queueId, m.msgId))!);
      }
      const held = await store.fetchPending(q.queueId, { limit: 10 });
      for (const m of held) assert.equal(await store.ack(q.queueId, m.msgId), true);
      assert.deepEqual(await store.fetchPending(q.queueId, { limit: 10 }), [], "emptied by acks");

      // Same rounding period (same expiry time): the new message must still come after all of them,
      // or a reader at the last position would never see it.
      const next = await stored(store.enqueue(q.sendId, bytes(512, 9), T0 + HOUR));
      const p = (await store.positionOf(q.queueId, next.msgId))!;
      for (const earlier of seen) assert.ok(p > earlier, `${p} > ${earlier}`);
      assert.deepEqual(
        (await store.fetchPending(q.queueId, { limit: 10, afterSeq: Math.max(...seen) })).map((m) => m.msgId),
        [next.msgId],
      );
      assert.equal((await store.disclose(q.queueId)).queues[0]!.lastSeq, p);

      // And the same once expiry has emptied it.
      await store.ack(q.queueId, next.msgId);
      const later = await stored(store.enqueue(q.sendId, bytes(512, 10), T0 + HOUR));
      assert.equal((await store.expire(T0 + HOUR)).messages, 1);
      const after = await stored(store.enqueue(q.sendId, bytes(512, 11), T0 + HOUR));
      assert.ok((await store.positionOf(q.queueId, after.msgId))! > p + 1, "after the expired one too");
      assert.equal(await store.positionOf(q.queueId, later.msgId), null);
    });

    it("calls onReadable once per stored message, with the message, its position and the position before it", async (t) => {
      const store = await open(t);
      const q = await store.createQueue(newKey().publicKey, T0 + 10 * HOUR);
      const handed: StoredMessage[] = [];
      const send = async (fill: number) => {
        let calls = 0;
        let seen: StoredMessage | undefined;
        const r = await stored(
          store.enqueue(q.sendId, bytes(512, fill), T0 + HOUR, undefined, {
            onReadable: (queueId, m) => {
              calls++;
              assert.equal(queueId, q.queueId);
              // The body is the caller's buffer, valid during the call only: kept as a copy.
              if (m) seen = { ...m, body: Uint8Array.from(m.body) };
            },
          }),
        );
        assert.equal(calls, 1, "announced once");
        if (!inlineBodies) return assert.equal(seen, undefined, "a body in a file is not in hand");
        assert.ok(seen, "an inline message comes with its announcement");
        assert.equal(seen.msgId, r.msgId);
        assert.deepEqual(Array.from(seen.body), Array.from(bytes(512, fill)));
        assert.equal(seen.expiresAt, T0 + HOUR);
        assert.equal(seen.seq, await store.positionOf(q.queueId, r.msgId));
        handed.push(seen);
      };
      await send(1);
      await send(2);
      // Acknowledged and gone, the last position still counts: the next one follows it.
      for (const m of await store.fetchPending(q.queueId, { limit: 10 })) await store.ack(q.queueId, m.msgId);
      await send(3);
      if (!inlineBodies) return;
      const first = handed[0]!;
      assert.ok(Number.isSafeInteger(first.prevSeq) && first.prevSeq! < first.seq, "the queue's start");
      for (let i = 1; i < handed.length; i++)
        assert.equal(handed[i]!.prevSeq, handed[i - 1]!.seq, `message ${i} follows message ${i - 1}`);
    });

    it("deleteQueue removes the queue and everything in it", async (t) => {
      const store = await open(t);
      const q = await store.createQueue(newKey().publicKey, T0);
      await store.enqueue(q.sendId, bytes(512, 1), T0 + HOUR);
      await store.rememberNonce(q.queueId, "n1", T0 + HOUR);
      assert.equal(await store.deleteQueue(q.queueId), true);
      assert.equal(await store.getQueue(q.queueId), null);
      assert.equal(await store.getQueueBySendId(q.sendId), null);
      assert.deepEqual(await store.fetchPending(q.queueId, { limit: 10 }), []);
      assert.deepEqual(await store.enqueue(q.sendId, bytes(512, 1), T0 + HOUR), {
        status: "unknown_queue",
      });
      assert.equal(await store.deleteQueue(q.queueId), false);
      const d = await store.disclose(q.queueId);
      assert.deepEqual(d, { queues: [], invites: [], nonces: [] });
    });

    it("remembers nonces per scope, atomically, until they expire", async (t) => {
      const store = await open(t);
      assert.equal(await store.rememberNonce("scopeA", "nonce1", T0 + HOUR), true);
      assert.equal(await store.rememberNonce("scopeA", "nonce1", T0 + HOUR), false, "replay");
      assert.equal(await store.rememberNonce("scopeB", "nonce1", T0 + HOUR), true, "another scope");
      const racing = await Promise.all(
        [1, 2, 3, 4].map(() => store.rememberNonce("scopeA", "nonce2", T0 + HOUR)),
      );
      assert.equal(racing.filter(Boolean).length, 1, "exactly one of concurrent uses wins");
      await store.expire(T0 + HOUR - 1);
      assert.equal(await store.rememberNonce("scopeA", "nonce1", T0 + HOUR), false, "kept until it expires");
      const counts = await store.expire(T0 + HOUR);
      assert.equal(counts.nonces, 3);
      assert.equal(
        await store.rememberNonce("scopeA", "nonce1", T0 + 2 * HOUR),
        true,
        "forgotten after expiry",
      );
    });

    it("gives an invite to the first claim only, and not after it expires", async (t) => {
      const store = await open(t);
      const blob = bytes(1000, 5);
      const id = await store.createInvite(blob, T0 + HOUR);
      assert.match(id, ID);
      assert.deepEqual(plain(await store.claimInvite(id, T0)), plain(blob));
      assert.equal(await store.claimInvite(id, T0), null, "single use");

      const raced = await store.createInvite(blob, T0 + HOUR);
      const claims = await Promise.all([1, 2, 3].map(() => store.claimInvite(raced, T0)));
      assert.equal(claims.filter((c) => c !== null).length, 1, "exactly one concurrent claim wins");

      const stale = await store.createInvite(blob, T0 + HOUR);
      assert.equal(await store.claimInvite(stale, T0 + HOUR), null, "expired at its expiry time");
      assert.equal(await store.claimInvite(stale, T0), null, "and gone afterwards");
      assert.equal(await store.claimInvite("AAAAAAAAAAAAAAAAAAAAAA", T0), null);
    });

    it("creates a rendezvous queue once and finds it after, refusing its ids to another key", async (t) => {
      const store = await open(t);
      const ids = { queueId: "RRRRRRRRRRRRRRRRRRRRRQ", sendId: "SSSSSSSSSSSSSSSSSSSSSQ" };
      assert.equal(await store.createRendezvousQueue("key-one", ids, T0 + HOUR), "created");
      assert.equal(await store.createRendezvousQueue("key-one", ids, T0 + 2 * HOUR), "exists");
      const q = await store.getQueue(ids.queueId);
      assert.equal(q?.broadcast, true);
      assert.equal(q?.sendId, ids.sendId);
      assert.equal(q?.idleUntil, T0 + 2 * HOUR, "finding it keeps it alive");
      assert.equal(await store.createRendezvousQueue("key-two", ids, T0 + HOUR), "conflict");
      const clash = { queueId: "TTTTTTTTTTTTTTTTTTTTTQ", sendId: ids.sendId };
      assert.equal(await store.createRendezvousQueue("key-one", clash, T0 + HOUR), "conflict");
      assert.ok(await store.deleteQueue(ids.queueId));
      assert.equal(
        await store.createRendezvousQueue("key-one", ids, T0 + HOUR),
        "created",
        "again once gone",
      );
    });

    it("lets an invite be read (peeked) any number of times until it is claimed or expires", async (t) => {
      const store = await open(t);
      const blob = bytes(700, 9);
      const id = await store.createInvite(blob, T0 + HOUR);
      assert.deepEqual(plain(await store.peekInvite(id, T0)), plain(blob));
      assert.deepEqual(plain(await store.peekInvite(id, T0)), plain(blob), "a peek uses nothing up");
      assert.equal(await store.peekInvite(id, T0 + HOUR), null, "not after expiry");
      assert.deepEqual(plain(await store.claimInvite(id, T0)), plain(blob));
      assert.equal(await store.peekInvite(id, T0), null, "gone once claimed");
      assert.equal(await store.peekInvite("AAAAAAAAAAAAAAAAAAAAAA", T0), null);
    });

    it("expire deletes what is due and nothing else", async (t) => {
      const store = await open(t);
      const q = await store.createQueue(newKey().publicKey, T0 + 10 * HOUR);
      const soon = await stored(store.enqueue(q.sendId, bytes(512, 1), T0 + HOUR));
      const later = await stored(store.enqueue(q.sendId, bytes(512, 2), T0 + 3 * HOUR));
      const invSoon = await store.createInvite(bytes(10, 1), T0 + HOUR);
      const invLater = await store.createInvite(bytes(10, 2), T0 + 3 * HOUR);

      assert.deepEqual(await store.expire(T0), { messages: 0, queues: 0, invites: 0, nonces: 0 });
      assert.deepEqual(await store.expire(T0 + HOUR), { messages: 1, queues: 0, invites: 1, nonces: 0 });
      assert.deepEqual(
        (await store.fetchPending(q.queueId, { limit: 10 })).map((m) => m.msgId),
        [later.msgId],
      );
      assert.equal(await store.ack(q.queueId, soon.msgId), false);
      assert.equal(await store.claimInvite(invSoon, T0), null);
      assert.deepEqual(plain(await store.claimInvite(invLater, T0)), plain(bytes(10, 2)));
      assert.ok(await store.getQueue(q.queueId), "the queue is not idle yet");
    });

    it("deletes queues left idle past their time, with their messages; use extends their life", async (t) => {
      const store = await open(t);
      const idle = await store.createQueue(newKey().publicKey, T0 + HOUR);
      const used = await store.createQueue(newKey().publicKey, T0 + HOUR);
      const fed = await store.createQueue(newKey().publicKey, T0 + HOUR);
      await store.touchQueue(used.queueId, T0 + 5 * HOUR);
      await store.touchQueue(used.queueId, T0 + 2 * HOUR); // never shortens
      assert.equal((await store.getQueue(used.queueId))!.idleUntil, T0 + 5 * HOUR);
      // A queue lives at least as long as a message in it.
      await store.enqueue(fed.sendId, bytes(512, 1), T0 + 4 * HOUR);
      assert.equal((await store.getQueue(fed.queueId))!.idleUntil, T0 + 4 * HOUR);

      const counts = await store.expire(T0 + HOUR);
      assert.equal(counts.queues, 1);
      assert.equal(await store.getQueue(idle.queueId), null);
      assert.equal(await store.getQueueBySendId(idle.sendId), null);
      assert.ok(await store.getQueue(used.queueId));
      assert.ok(await store.getQueue(fed.queueId));

      const end = await store.expire(T0 + 5 * HOUR);
      assert.equal(end.queues, 2);
      assert.equal(end.messages, 1);
      assert.deepEqual(await store.fetchPending(fed.queueId, { limit: 10 }), []);
    });

    it("discloses everything held about a queue id, send id, recipient key or invite id, and nothing more", async (t) => {
      const store = await open(t);
      const key = newKey().publicKey;
      await store.rememberNonce(key, "createNonce", T0 + HOUR);
      const q = await store.createQueue(key, T0 + 2 * HOUR);
      const other = await store.createQueue(newKey().publicKey, T0 + 2 * HOUR);
      const m = await stored(store.enqueue(q.sendId, bytes(2048, 3), T0 + HOUR));
      await store.enqueue(other.sendId, bytes(512, 4), T0 + HOUR);
      await store.rememberNonce(q.queueId, "cmdNonce", T0 + HOUR);
      await store.rememberNonce(other.queueId, "otherNonce", T0 + HOUR);
      const invite = await store.createInvite(bytes(100, 6), T0 + HOUR);
      const [held] = await store.fetchPending(q.queueId, { limit: 1 });

      const expected = {
        queues: [
          {
            queueId: q.queueId,
            sendId: q.sendId,
            recipientKey: key,
            idleUntil: T0 + 2 * HOUR,
            broadcast: false,
            lastSeq: held!.seq,
            messages: [{ msgId: m.msgId, body: bytes(2048, 3), expiresAt: T0 + HOUR, seq: held!.seq }],
            nonces: [
              { scope: q.queueId, nonce: "cmdNonce", expiresAt: T0 + HOUR },
              { scope: key, nonce: "createNonce", expiresAt: T0 + HOUR },
            ],
          },
        ],
        invites: [],
        nonces: [],
      };
      for (const id of [q.queueId, q.sendId, key]) {
        assert.deepEqual(plain(await store.disclose(id)), plain(expected), `disclose(${id})`);
      }
      assert.deepEqual(plain(await store.disclose(invite)), {
        queues: [],
        invites: [{ inviteId: invite, blob: { bytes: Array.from(bytes(100, 6)) }, expiresAt: T0 + HOUR }],
        nonces: [],
      });
      assert.deepEqual(await store.disclose("AAAAAAAAAAAAAAAAAAAAAA"), {
        queues: [],
        invites: [],
        nonces: [],
      });
      assert.deepEqual((await store.disclose("scopeOnly")).nonces, []);
    });

    it("creates broadcast queues, shown as such by getQueue and disclose", async (t) => {
      const store = await open(t);
      const key = newKey().publicKey;
      const b = await store.createQueue(key, T0 + HOUR, { broadcast: true });
      const u = await store.createQueue(newKey().publicKey, T0 + HOUR, { broadcast: false });
      assert.deepEqual(await store.getQueue(b.queueId), {
        ...b,
        recipientKey: key,
        idleUntil: T0 + HOUR,
        broadcast: true,
      });
      assert.equal((await store.getQueueBySendId(b.sendId))!.broadcast, true);
      assert.equal((await store.getQueue(u.queueId))!.broadcast, false);
      assert.equal((await store.disclose(b.sendId)).queues[0]!.broadcast, true);
    });

    it("orders a broadcast queue and resumes after a cursor's position", async (t) => {
      const store = await open(t);
      const q = await store.createQueue(newKey().publicKey, T0, { broadcast: true });
      const other = await store.createQueue(newKey().publicKey, T0, { broadcast: true });
      const ids: string[] = [];
      for (let i = 0; i < 5; i++)
        ids.push((await stored(store.enqueue(q.sendId, bytes(512, i + 1), T0 + HOUR))).msgId);
      const foreign = (await stored(store.enqueue(other.sendId, bytes(512, 9), T0 + HOUR))).msgId;

      const all = await store.fetchPending(q.queueId, { limit: 100 });
      assert.deepEqual(
        all.map((m) => m.msgId),
        ids,
      );
      const positions = all.map((m) => m.seq);
      assert.ok(
        positions.every((p, i) => i === 0 || p > positions[i - 1]!),
        "positions grow in enqueue order",
      );
      for (const [i, m] of all.entries()) assert.equal(await store.positionOf(q.queueId, ids[i]!), m.seq);
      assert.equal(await store.positionOf(q.queueId, foreign), null, "another queue's message");
      assert.equal(await store.positionOf(q.queueId, "AAAAAAAAAAAAAAAAAAAAAA"), null);

      const after1 = await store.fetchPending(q.queueId, { limit: 100, afterSeq: positions[1]! });
      assert.deepEqual(
        after1.map((m) => m.msgId),
        ids.slice(2),
        "strictly after the cursor",
      );
      assert.deepEqual(
        (await store.fetchPending(q.queueId, { limit: 2, afterSeq: positions[0]! })).map((m) => m.msgId),
        ids.slice(1, 3),
      );
      assert.deepEqual(await store.fetchPending(q.queueId, { limit: 100, afterSeq: positions[4]! }), []);
      assert.equal(
        (await store.fetchPending(q.queueId, { limit: 100, afterSeq: positions[0]!, maxBytes: 1 })).length,
        1,
        "the byte cap applies after the cursor too",
      );
    });

    it("never deletes a broadcast message on ack, and deletes the queue on deleteQueue", async (t) => {
      const store = await open(t);
      const q = await store.createQueue(newKey().publicKey, T0, { broadcast: true });
      const m = await stored(store.enqueue(q.sendId, bytes(512, 1), T0 + HOUR));
      assert.equal(await store.ack(q.queueId, m.msgId), false);
      assert.equal(await store.ack(q.queueId, m.msgId), false);
      assert.deepEqual(
        (await store.fetchPending(q.queueId, { limit: 10 })).map((x) => x.msgId),
        [m.msgId],
        "every reader still gets it",
      );
      assert.equal(await store.deleteQueue(q.queueId), true);
      assert.equal(await store.getQueue(q.queueId), null);
      assert.deepEqual(await store.enqueue(q.sendId, bytes(512, 1), T0 + HOUR), {
        status: "unknown_queue",
      });
    });

    it("expires broadcast messages by TTL, keeping positions valid even once the queue was empty", async (t) => {
      const store = await open(t);
      const q = await store.createQueue(newKey().publicKey, T0 + 100 * HOUR, { broadcast: true });
      const m1 = await stored(store.enqueue(q.sendId, bytes(512, 1), T0 + HOUR));
      await store.enqueue(q.sendId, bytes(512, 2), T0 + HOUR);
      const m3 = await stored(store.enqueue(q.sendId, bytes(512, 3), T0 + 2 * HOUR));
      const p1 = (await store.positionOf(q.queueId, m1.msgId))!;
      const p3 = (await store.positionOf(q.queueId, m3.msgId))!;

      assert.equal((await store.expire(T0 + HOUR)).messages, 2);
      assert.equal(await store.positionOf(q.queueId, m1.msgId), null, "an expired cursor is unknown");
      assert.deepEqual(
        (await store.fetchPending(q.queueId, { limit: 10, afterSeq: p1 })).map((m) => m.msgId),
        [m3.msgId],
        "a reader's position stays valid after earlier messages expire",
      );

      // Everything expires: the queue is empty. A reader still at m3's position (a live
      // subscription) must get what arrives next.
      assert.equal((await store.expire(T0 + 2 * HOUR)).messages, 1);
      assert.deepEqual(await store.fetchPending(q.queueId, { limit: 10 }), []);
      const m4 = await stored(store.enqueue(q.sendId, bytes(512, 4), T0 + 3 * HOUR));
      const m5 = await stored(store.enqueue(q.sendId, bytes(512, 5), T0 + 3 * HOUR));
      assert.deepEqual(
        (await store.fetchPending(q.queueId, { limit: 10, afterSeq: p3 })).map((m) => m.msgId),
        [m4.msgId, m5.msgId],
      );
      assert.ok(await store.getQueue(q.queueId), "the queue itself lives on until idle");
    });

    it("lets readers at different positions each read every message once, in order (fan-out)", async (t) => {
      const store = await open(t);
      const q = await store.createQueue(newKey().publicKey, T0, { broadcast: true });
      const sent: string[] = [];
      const readers = [
        { position: undefined as number | undefined, got: [] as string[] },
        { position: undefined as number | undefined, got: [] as string[] },
        { position: undefined as number | undefined, got: [] as string[] },
      ];
      const read = async (r: (typeof readers)[number], limit: number) => {
        const batch = await store.fetchPending(q.queueId, {
          limit,
          ...(r.position === undefined ? {} : { afterSeq: r.position }),
        });
        for (const m of batch) {
          r.got.push(m.msgId);
          r.position = m.seq;
        }
      };
      for (let round = 0; round < 6; round++) {
        for (let i = 0; i <= round % 3; i++)
          sent.push((await stored(store.enqueue(q.sendId, bytes(512, round), T0 + HOUR))).msgId);
        // Readers fall behind and catch up at different paces.
        await read(readers[0]!, 100);
        if (round % 2 === 1) await read(readers[1]!, 2);
        if (round === 2) await read(readers[2]!, 1);
      }
      for (const r of readers) {
        for (let before = -1; r.got.length !== before; ) {
          before = r.got.length;
          await read(r, 3);
        }
      }
      for (const r of readers) assert.deepEqual(r.got, sent);
      assert.equal(
        (await store.fetchPending(q.queueId, { limit: 100 })).length,
        sent.length,
        "one copy each",
      );
    });

    it("supports a cursor on a unicast queue too", async (t) => {
      const store = await open(t);
      const q = await store.createQueue(newKey().publicKey, T0);
      const a = await stored(store.enqueue(q.sendId, bytes(512, 1), T0 + HOUR));
      const b = await stored(store.enqueue(q.sendId, bytes(512, 2), T0 + HOUR));
      const p = (await store.positionOf(q.queueId, a.msgId))!;
      assert.deepEqual(
        (await store.fetchPending(q.queueId, { limit: 10, afterSeq: p })).map((m) => m.msgId),
        [b.msgId],
      );
      assert.equal(await store.ack(q.queueId, a.msgId), true, "unicast ack still deletes");
      assert.equal(await store.positionOf(q.queueId, a.msgId), null);
    });

    it("counts each queue's pending messages and bytes through enqueue, ack, expiry and deletion", async (t) => {
      const store = await open(t);
      const q = await store.createQueue(newKey().publicKey, T0 + 10 * HOUR);
      const other = await store.createQueue(newKey().publicKey, T0 + 10 * HOUR);
      const group = await store.createQueue(newKey().publicKey, T0 + 10 * HOUR, { broadcast: true });
      assert.deepEqual(await store.queueUsage(q.queueId), { messages: 0, bytes: 0 });
      await stored(store.enqueue(q.sendId, bytes(512, 1), T0 + HOUR));
      const big = await stored(store.enqueue(q.sendId, bytes(2048, 2), T0 + HOUR));
      await stored(store.enqueue(q.sendId, bytes(1024, 3), T0 + 3 * HOUR));
      await stored(store.enqueue(other.sendId, bytes(512, 4), T0 + HOUR));
      await stored(store.enqueue(other.sendId, bytes(512, 5), T0 + 2 * HOUR));
      const shared = await stored(store.enqueue(group.sendId, bytes(4096, 6), T0 + HOUR));
      assert.deepEqual(await store.queueUsage(q.queueId), { messages: 3, bytes: 3584 });
      assert.deepEqual(await store.queueUsage(other.queueId), { messages: 2, bytes: 1024 });

      assert.equal(await store.ack(q.queueId, big.msgId), true);
      assert.deepEqual(await store.queueUsage(q.queueId), { messages: 2, bytes: 1536 });
      assert.equal(await store.ack(q.queueId, big.msgId), false, "already gone");
      assert.equal(await store.ack(other.queueId, big.msgId), false, "another queue's message");
      assert.equal(await store.ack(group.queueId, shared.msgId), false, "broadcast: not deleted");
      assert.deepEqual(await store.queueUsage(q.queueId), { messages: 2, bytes: 1536 });
      assert.deepEqual(await store.queueUsage(other.queueId), { messages: 2, bytes: 1024 });
      assert.deepEqual(await store.queueUsage(group.queueId), { messages: 1, bytes: 4096 });

      // One expiry pass takes messages from several queues at once.
      assert.equal((await store.expire(T0 + HOUR)).messages, 3);
      assert.deepEqual(await store.queueUsage(q.queueId), { messages: 1, bytes: 1024 });
      assert.deepEqual(await store.queueUsage(other.queueId), { messages: 1, bytes: 512 });
      assert.deepEqual(await store.queueUsage(group.queueId), { messages: 0, bytes: 0 });
      assert.equal((await store.expire(T0 + 3 * HOUR)).messages, 2);
      assert.deepEqual(await store.queueUsage(q.queueId), { messages: 0, bytes: 0 });
      assert.deepEqual(await store.queueUsage(other.queueId), { messages: 0, bytes: 0 });

      await stored(store.enqueue(q.sendId, bytes(512, 7), T0 + 5 * HOUR));
      assert.deepEqual(await store.queueUsage(q.queueId), { messages: 1, bytes: 512 });
      assert.equal(await store.deleteQueue(q.queueId), true);
      assert.equal(await store.queueUsage(q.queueId), null);
      assert.equal(await store.queueUsage("AAAAAAAAAAAAAAAAAAAAAA"), null);
    });

    it("refuses a message that would take a queue past its message or byte cap, and takes more once it drains", async (t) => {
      const store = await open(t);
      const q = await store.createQueue(newKey().publicKey, T0 + 10 * HOUR);
      const limits = { maxMessages: 3, maxBytes: 1 << 20 };
      const held: string[] = [];
      for (let i = 0; i < 3; i++)
        held.push((await stored(store.enqueue(q.sendId, bytes(512, i), T0 + HOUR, limits))).msgId);
      assert.deepEqual(await store.enqueue(q.sendId, bytes(512, 9), T0 + HOUR, limits), {
        status: "queue_full",
        queueId: q.queueId,
        limit: "messages",
        usage: { messages: 3, bytes: 1536 },
      });
      assert.deepEqual(
        (await store.fetchPending(q.queueId, { limit: 10 })).map((m) => m.msgId),
        held,
        "nothing was stored",
      );
      assert.deepEqual(await store.queueUsage(q.queueId), { messages: 3, bytes: 1536 });
      // Without limits (or with other limits) the same queue takes more: the cap is the caller's.
      await stored(store.enqueue(q.sendId, bytes(512, 10), T0 + HOUR));
      assert.equal((await store.enqueue(q.sendId, bytes(512, 11), T0 + HOUR, limits)).status, "queue_full");
      // Draining makes room again.
      assert.equal(await store.ack(q.queueId, held[0]!), true);
      assert.equal(await store.ack(q.queueId, held[1]!), true);
      assert.equal((await store.enqueue(q.sendId, bytes(512, 12), T0 + HOUR, limits)).status, "stored");

      const b = await store.createQueue(newKey().publicKey, T0 + 10 * HOUR);
      const byBytes = { maxMessages: 100, maxBytes: 4096 };
      await stored(store.enqueue(b.sendId, bytes(2048, 1), T0 + HOUR, byBytes));
      await stored(store.enqueue(b.sendId, bytes(2048, 2), T0 + HOUR, byBytes));
      assert.deepEqual(await store.enqueue(b.sendId, bytes(512, 3), T0 + HOUR, byBytes), {
        status: "queue_full",
        queueId: b.queueId,
        limit: "bytes",
        usage: { messages: 2, bytes: 4096 },
      });
      assert.equal((await store.expire(T0 + HOUR)).messages > 0, true);
      assert.equal((await store.enqueue(b.sendId, bytes(512, 4), T0 + 2 * HOUR, byBytes)).status, "stored");
      assert.deepEqual(await store.enqueue("AAAAAAAAAAAAAAAAAAAAAA", bytes(512, 1), T0, byBytes), {
        status: "unknown_queue",
      });
    });

    it("holds a group (broadcast) queue to its own, larger caps", async (t) => {
      const store = await open(t);
      const limits = { maxMessages: 2, maxBytes: 1 << 20, broadcastMaxMessages: 4 };
      const group = await store.createQueue(newKey().publicKey, T0 + 10 * HOUR, { broadcast: true });
      const direct = await store.createQueue(newKey().publicKey, T0 + 10 * HOUR);
      for (let i = 0; i < 4; i++) await stored(store.enqueue(group.sendId, bytes(512, i), T0 + HOUR, limits));
      assert.equal(
        (await store.enqueue(group.sendId, bytes(512, 5), T0 + HOUR, limits)).status,
        "queue_full",
      );
      for (let i = 0; i < 2; i++)
        await stored(store.enqueue(direct.sendId, bytes(512, i), T0 + HOUR, limits));
      assert.equal(
        (await store.enqueue(direct.sendId, bytes(512, 5), T0 + HOUR, limits)).status,
        "queue_full",
      );
    });

    it("compact keeps every row, and reports storage in use", async (t) => {
      const store = await open(t);
      const q = await store.createQueue(newKey().publicKey, T0);
      const kept = await stored(store.enqueue(q.sendId, bytes(65536, 1), T0 + 2 * HOUR));
      for (let i = 0; i < 20; i++) await stored(store.enqueue(q.sendId, bytes(65536, 2), T0 + HOUR));
      const before = await store.storageBytes();
      assert.ok(before >= 21 * 65536, `storageBytes ${before} counts the bodies`);
      await store.expire(T0 + HOUR);
      assert.ok((await store.compact()) >= 0);
      assert.ok((await store.storageBytes()) < before - 10 * 65536, "expired data is no longer counted");
      assert.deepEqual(
        (await store.fetchPending(q.queueId, { limit: 10 })).map((m) => m.msgId),
        [kept.msgId],
      );
    });

    it("close can be called twice", async (t) => {
      const store = await open(t);
      await store.close();
      await store.close();
    });
  });
}
