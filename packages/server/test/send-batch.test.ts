/**
 * `POST /v1/send-batch` (docs/protocol.md): several envelopes in one request, stored in order as
 * single sends would be, stopping at the first refusal; malformed batches are refused whole.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  ErrorBody,
  headedFramePrefix,
  SEND_BATCH_LIMIT,
  SendBatchResponse,
  sendBatchFrame,
} from "@parley/protocol";
import { command, createQueue, envelope, postBytes, signCommand, startTestRelay } from "./helpers.js";

const url = (relay: { url: string }) => `${relay.url}/v1/send-batch`;

/** Head and bodies as given, sizes and all, for batches the protocol helper would never build. */
function rawFrame(head: unknown, ...bodies: Uint8Array[]): Uint8Array {
  const prefix = headedFramePrefix(head);
  return Buffer.concat([prefix, ...bodies]);
}

async function fetched(relayUrl: string, key: Parameters<typeof signCommand>[0], queueId: string) {
  const res = await command(relayUrl, signCommand(key, "fetch", queueId));
  return (res.json["messages"] as { msgId: string; body: string }[]).map((m) => ({
    msgId: m.msgId,
    body: Buffer.from(m.body, "base64url"),
  }));
}

function assertRefused(res: { status: number; json: Record<string, unknown> }, status: number, code: string) {
  assert.equal(res.status, status, JSON.stringify(res.json));
  assert.ok(ErrorBody.safeParse(res.json).success);
  assert.equal(res.json["code"], code);
}

describe("batch send", () => {
  it("stores each envelope in order, to its own queue, and answers their msgIds", async (t) => {
    const relay = await startTestRelay(t);
    const a = await createQueue(relay.url);
    const b = await createQueue(relay.url);
    const bodies = [envelope(512, 1), envelope(2048, 2), envelope(512, 3)];
    const res = await postBytes(
      url(relay),
      sendBatchFrame([
        { sendId: a.sendId, body: bodies[0]! },
        { sendId: b.sendId, body: bodies[1]! },
        { sendId: a.sendId, body: bodies[2]! },
      ]),
    );
    assert.equal(res.status, 202);
    const reply = SendBatchResponse.parse(res.json);
    assert.equal(reply.msgIds.length, 3);
    assert.equal(reply.refused, undefined);
    const inA = await fetched(relay.url, a.key, a.queueId);
    assert.deepEqual(
      inA.map((m) => m.msgId),
      [reply.msgIds[0], reply.msgIds[2]],
    );
    assert.deepEqual(inA[0]!.body, Buffer.from(bodies[0]!));
    assert.deepEqual(inA[1]!.body, Buffer.from(bodies[2]!));
    const inB = await fetched(relay.url, b.key, b.queueId);
    assert.deepEqual(
      inB.map((m) => m.msgId),
      [reply.msgIds[1]],
    );
  });

  it("stops at the first refusal: what came before is stored, nothing after it is tried", async (t) => {
    const relay = await startTestRelay(t);
    const q = await createQueue(relay.url);
    const notABucket = new Uint8Array(700);
    const res = await postBytes(
      url(relay),
      sendBatchFrame([
        { sendId: q.sendId, body: envelope(512, 1) },
        { sendId: q.sendId, body: notABucket },
        { sendId: q.sendId, body: envelope(512, 3) },
      ]),
    );
    assert.equal(res.status, 202);
    const reply = SendBatchResponse.parse(res.json);
    assert.equal(reply.msgIds.length, 1);
    assert.equal(reply.refused?.code, "bad_padding");
    assert.equal(reply.refused?.status, 400);
    const stored = await fetched(relay.url, q.key, q.queueId);
    assert.deepEqual(
      stored.map((m) => m.msgId),
      reply.msgIds,
    );

    const unknown = await postBytes(
      url(relay),
      sendBatchFrame([
        { sendId: "AAAAAAAAAAAAAAAAAAAAAA", body: envelope(512, 1) },
        { sendId: q.sendId, body: envelope(512, 2) },
      ]),
    );
    const r2 = SendBatchResponse.parse(unknown.json);
    assert.deepEqual(r2.msgIds, []);
    assert.equal(r2.refused?.code, "unknown_queue");
    assert.equal((await fetched(relay.url, q.key, q.queueId)).length, 1, "nothing after the refusal");
  });

  it("refuses malformed batches whole, and stores nothing of them", async (t) => {
    const relay = await startTestRelay(t);
    const q = await createQueue(relay.url);
    const body = envelope(512, 1);
    const cases: [string, Uint8Array][] = [
      ["sizes short of the bytes", rawFrame({ messages: [{ sendId: q.sendId, size: 100 }] }, body)],
      ["sizes beyond the bytes", rawFrame({ messages: [{ sendId: q.sendId, size: 1024 }] }, body)],
      ["no messages", rawFrame({ messages: [] })],
      ["a bad send id", rawFrame({ messages: [{ sendId: "../x", size: 512 }] }, body)],
      ["a negative size", rawFrame({ messages: [{ sendId: q.sendId, size: -512 }] }, body)],
      ["an unknown field", rawFrame({ messages: [{ sendId: q.sendId, size: 512, to: "x" }] }, body)],
      ["a head that is not JSON", Buffer.concat([Buffer.from([0, 0, 0, 3]), Buffer.from("{{{"), body])],
      ["a head longer than the frame", Buffer.concat([Buffer.from([0, 0, 9, 0]), body])],
      ["two bytes", new Uint8Array(2)],
      [
        "too many messages",
        rawFrame(
          { messages: Array.from({ length: SEND_BATCH_LIMIT + 1 }, () => ({ sendId: q.sendId, size: 512 })) },
          ...Array.from({ length: SEND_BATCH_LIMIT + 1 }, () => body),
        ),
      ],
    ];
    for (const [what, frame] of cases) {
      const res = await postBytes(url(relay), frame);
      assert.equal(res.status, 400, `${what}: ${JSON.stringify(res.json)}`);
      assert.equal(res.json["code"], "bad_request", what);
    }
    const json = await fetch(url(relay), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ messages: [] }),
    });
    assert.ok(json.status === 400 || json.status === 415, `JSON body: ${json.status}`);
    assertRefused(await postBytes(url(relay), undefined), 400, "bad_request");
    assert.deepEqual(await fetched(relay.url, q.key, q.queueId), []);
  });
});
