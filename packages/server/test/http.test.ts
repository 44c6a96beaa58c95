import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ErrorBody, INVITE_MAX_BYTES } from "@parley/protocol";
import {
  command,
  createQueue,
  delay,
  envelope,
  newKey,
  nonce,
  postBytes,
  postJson,
  signCommand,
  signCreate,
  startTestRelay,
} from "./helpers.js";

/** Every refusal is `{code, error}` with the given status and never a stack trace. */
function assertError(res: { status: number; json: Record<string, unknown> }, status: number, code: string) {
  assert.equal(
    res.status,
    status,
    `expected ${status} ${code}, got ${res.status} ${JSON.stringify(res.json)}`,
  );
  assert.ok(ErrorBody.safeParse(res.json).success, "error body is {code, error}");
  assert.equal(res.json["code"], code);
  assert.ok((res.json["error"] as string).length > 0, "the error says what is wrong");
  assert.doesNotMatch(JSON.stringify(res.json), /\bat .*\.js:\d+/, "no stack trace");
}

async function healthy(url: string) {
  const res = await fetch(`${url}/v1/health`);
  assert.equal(res.status, 200);
  assert.equal(((await res.json()) as { ok: boolean }).ok, true);
}

describe("relay HTTP API", () => {
  it("creates a queue, accepts a send, fetches, acknowledges and deletes", async (t) => {
    const relay = await startTestRelay(t);
    const { key, queueId, sendId } = await createQueue(relay.url);
    assert.match(queueId, /^[A-Za-z0-9_-]{22}$/);
    assert.match(sendId, /^[A-Za-z0-9_-]{22}$/);
    assert.notEqual(queueId, sendId);

    const first = envelope(512, 1);
    const second = envelope(2048, 2);
    const s1 = await postBytes(`${relay.url}/v1/send/${sendId}`, first);
    assert.equal(s1.status, 202);
    const s2 = await postBytes(`${relay.url}/v1/send/${sendId}`, second);
    assert.equal(s2.status, 202);

    const fetched = await command(relay.url, signCommand(key, "fetch", queueId));
    assert.equal(fetched.status, 200);
    const messages = fetched.json["messages"] as { msgId: string; body: string }[];
    assert.deepEqual(
      messages.map((m) => m.msgId),
      [s1.json["msgId"], s2.json["msgId"]],
    );
    assert.deepEqual(Buffer.from(messages[0]!.body, "base64url"), Buffer.from(first));
    assert.deepEqual(Buffer.from(messages[1]!.body, "base64url"), Buffer.from(second));

    const acked = await command(relay.url, signCommand(key, "ack", queueId, { msgId: messages[0]!.msgId }));
    assert.deepEqual(acked, { status: 200, json: { ok: true } });
    const after = await command(relay.url, signCommand(key, "fetch", queueId));
    assert.deepEqual(
      (after.json["messages"] as { msgId: string }[]).map((m) => m.msgId),
      [messages[1]!.msgId],
    );

    const deleted = await command(relay.url, signCommand(key, "del", queueId));
    assert.deepEqual(deleted, { status: 200, json: { ok: true } });
    assertError(await command(relay.url, signCommand(key, "fetch", queueId)), 404, "unknown_queue");
    assertError(await postBytes(`${relay.url}/v1/send/${sendId}`, first), 404, "unknown_queue");
  });

  it("a captured ack played again deletes nothing more: unknown_message, its nonce not kept", async (t) => {
    const relay = await startTestRelay(t);
    const { key, queueId, sendId } = await createQueue(relay.url);
    const first = (await postBytes(`${relay.url}/v1/send/${sendId}`, envelope(512, 1))).json[
      "msgId"
    ] as string;
    const second = (await postBytes(`${relay.url}/v1/send/${sendId}`, envelope(512, 2))).json[
      "msgId"
    ] as string;
    const ack = signCommand(key, "ack", queueId, { msgId: first });
    assert.deepEqual(await command(relay.url, ack), { status: 200, json: { ok: true } });
    // The signature binds the ack to `first`, whose id is never handed out again: the replay can
    // only delete what was deleted already, so the relay keeps no nonce for it (a write per ack).
    assertError(await command(relay.url, ack), 404, "unknown_message");
    const left = await command(relay.url, signCommand(key, "fetch", queueId));
    assert.deepEqual(
      (left.json["messages"] as { msgId: string }[]).map((m) => m.msgId),
      [second],
      "the other message is still there",
    );
    // Still signed and fresh: a forged or stale ack deletes nothing.
    assertError(
      await command(relay.url, signCommand(newKey(), "ack", queueId, { msgId: second })),
      401,
      "bad_signature",
    );
    assertError(
      await command(
        relay.url,
        signCommand(key, "ack", queueId, { msgId: second, ts: Date.now() - 6 * 60_000 }),
      ),
      401,
      "clock_skew",
    );
  });

  it("answers each kind of bad input with the right error and stays up", async (t) => {
    const relay = await startTestRelay(t, { config: { maxMessageBytes: 2048 } });
    const { key, queueId, sendId } = await createQueue(relay.url);
    const url = relay.url;

    assertError(await postJson(`${url}/v1/queues/command`, "{not json"), 400, "bad_request");
    assertError(await postJson(`${url}/v1/queues`, "{not json"), 400, "bad_request");
    const noSig = await postJson(`${url}/v1/queues/command`, {
      cmd: "fetch",
      queueId,
      ts: Date.now(),
      nonce: nonce(),
    });
    assertError(noSig, 400, "bad_request");
    assert.match(noSig.json["error"] as string, /sig/, "names the missing field");
    assertError(
      await command(url, { ...signCommand(key, "fetch", queueId), cmd: "peek" }),
      400,
      "bad_request",
    );
    assertError(
      await command(url, { ...signCommand(key, "fetch", queueId), queueId: "short" }),
      400,
      "bad_request",
    );
    assertError(await command(url, [1, 2, 3]), 400, "bad_request");
    assertError(await postJson(`${url}/v1/queues`, { recipientKey: "x" }), 400, "bad_request");

    assertError(
      await command(url, signCommand(key, "fetch", "AAAAAAAAAAAAAAAAAAAAAA")),
      404,
      "unknown_queue",
    );
    assertError(await command(url, signCommand(newKey(), "fetch", queueId)), 401, "bad_signature");
    const tampered = signCommand(key, "fetch", queueId);
    const flipped = `${tampered.sig[0] === "A" ? "B" : "A"}${tampered.sig.slice(1)}`;
    assertError(await command(url, { ...tampered, sig: flipped }), 401, "bad_signature");
    // A signature is bound to its command: a signed fetch cannot be replayed as a delete.
    assertError(
      await command(url, { ...signCommand(key, "fetch", queueId), cmd: "del" }),
      401,
      "bad_signature",
    );

    const once = signCommand(key, "fetch", queueId);
    assert.equal((await command(url, once)).status, 200);
    assertError(await command(url, once), 409, "replay");

    assertError(
      await command(url, signCommand(key, "fetch", queueId, { ts: Date.now() - 6 * 60_000 })),
      401,
      "clock_skew",
    );
    assertError(
      await command(url, signCommand(key, "fetch", queueId, { ts: Date.now() + 6 * 60_000 })),
      401,
      "clock_skew",
    );
    assertError(await command(url, signCommand(key, "ack", queueId)), 400, "bad_request");
    assertError(
      await command(url, signCommand(key, "ack", queueId, { msgId: "AAAAAAAAAAAAAAAAAAAAAA" })),
      404,
      "unknown_message",
    );
    assertError(await command(url, signCommand(key, "sub", queueId)), 400, "bad_request");

    assertError(await postBytes(`${url}/v1/send/${sendId}`, new Uint8Array(1000)), 400, "bad_padding");
    assertError(await postBytes(`${url}/v1/send/${sendId}`, new Uint8Array(0)), 400, "bad_padding");
    // 8 KiB is a bucket size, but above this relay's configured maximum of 2 KiB.
    assertError(await postBytes(`${url}/v1/send/${sendId}`, envelope(8192)), 413, "too_large");
    assertError(
      await postBytes(`${url}/v1/send/AAAAAAAAAAAAAAAAAAAAAA`, envelope(512)),
      404,
      "unknown_queue",
    );
    assertError(await postBytes(`${url}/v1/send/not-an-id`, envelope(512)), 400, "bad_request");
    assertError(await postJson(`${url}/v1/send/${sendId}`, { body: "x" }), 400, "bad_request");

    const created = signCreate(newKey());
    assert.equal((await postJson(`${url}/v1/queues`, created)).status, 201);
    assertError(await postJson(`${url}/v1/queues`, created), 409, "replay");
    assertError(
      await postJson(`${url}/v1/queues`, { ...signCreate(newKey()), recipientKey: newKey().publicKey }),
      401,
      "bad_signature",
    );
    assertError(await postJson(`${url}/v1/queues`, signCreate(newKey(), { ts: 0 })), 401, "clock_skew");

    const notFound = await fetch(`${url}/v1/nothing/${queueId}`);
    assert.equal(notFound.status, 404);
    assert.ok(ErrorBody.safeParse(await notFound.json()).success);

    await healthy(url);
    // And the queue still works after all that.
    assert.equal((await postBytes(`${url}/v1/send/${sendId}`, envelope(512))).status, 202);
    const fetched = await command(url, signCommand(key, "fetch", queueId));
    assert.equal((fetched.json["messages"] as unknown[]).length, 1);
  });

  it("accepts every bucket size up to the default maximum of 8 MiB and refuses more", async (t) => {
    const relay = await startTestRelay(t);
    const { sendId } = await createQueue(relay.url);
    for (const size of [512, 32 * 1024, 8 * 1024 * 1024]) {
      assert.equal(
        (await postBytes(`${relay.url}/v1/send/${sendId}`, envelope(size))).status,
        202,
        `${size}`,
      );
    }
    assertError(
      await postBytes(`${relay.url}/v1/send/${sendId}`, new Uint8Array(8 * 1024 * 1024 + 512)),
      413,
      "too_large",
    );
    await healthy(relay.url);
  });

  it("keeps an invite for exactly one claim", async (t) => {
    const relay = await startTestRelay(t);
    const blob = new Uint8Array(3000).map((_, i) => i % 251);
    const created = await postBytes(`${relay.url}/v1/invites`, blob);
    assert.equal(created.status, 201);
    const inviteId = created.json["inviteId"] as string;
    assert.match(inviteId, /^[A-Za-z0-9_-]{22}$/);

    const claim = await fetch(`${relay.url}/v1/invites/${inviteId}/claim`, { method: "POST" });
    assert.equal(claim.status, 200);
    assert.equal(claim.headers.get("content-type"), "application/octet-stream");
    assert.deepEqual(Buffer.from(await claim.arrayBuffer()), Buffer.from(blob));

    assertError(await postBytes(`${relay.url}/v1/invites/${inviteId}/claim`, undefined), 404, "invite_gone");
    assertError(
      await postBytes(`${relay.url}/v1/invites/AAAAAAAAAAAAAAAAAAAAAA/claim`, undefined),
      404,
      "invite_gone",
    );
    assertError(await postBytes(`${relay.url}/v1/invites/bad/claim`, undefined), 400, "bad_request");
    assertError(
      await postBytes(`${relay.url}/v1/invites`, new Uint8Array(INVITE_MAX_BYTES + 1)),
      413,
      "too_large",
    );
    assertError(await postBytes(`${relay.url}/v1/invites`, new Uint8Array(0)), 400, "bad_request");
    assert.equal((await postBytes(`${relay.url}/v1/invites`, new Uint8Array(INVITE_MAX_BYTES))).status, 201);
  });

  it("writes only rounded times, and its sweep deletes expired messages and idle queues", async (t) => {
    const HOUR = 3_600_000;
    let clock = Date.UTC(2030, 0, 1, 12, 34, 56, 789);
    const relay = await startTestRelay(t, {
      now: () => clock,
      config: { ttlMs: 2 * HOUR, sweepIntervalMs: 20 },
    });
    const key = newKey();
    const created = await postJson(`${relay.url}/v1/queues`, signCreate(key, { ts: clock }));
    const queueId = created.json["queueId"] as string;
    const sendId = created.json["sendId"] as string;
    assert.equal((await postBytes(`${relay.url}/v1/send/${sendId}`, envelope(512))).status, 202);

    const held = (await relay.store.disclose(queueId)).queues[0]!;
    assert.equal(held.idleUntil % HOUR, 0, "queue time rounded to the hour");
    assert.equal(held.messages[0]!.expiresAt % HOUR, 0, "message time rounded to the hour");
    assert.ok(held.messages[0]!.expiresAt >= clock + 2 * HOUR, "never deleted before the TTL");
    assert.ok(held.nonces.every((n) => n.expiresAt % HOUR === 0));

    clock += 3 * HOUR + 1;
    for (let i = 0; i < 50 && (await relay.store.getQueue(queueId)); i++) await delay(20);
    assert.equal(await relay.store.getQueue(queueId), null, "idle queue swept");
    assert.deepEqual(await relay.store.disclose(queueId), { queues: [], invites: [], nonces: [] });
  });
  it("answers CORS for its public origins only, and names them in /v1/limits", async (t) => {
    const nodes = ["http://r1.example", "https://r2.example"];
    const relay = await startTestRelay(t, { config: { publicOrigins: nodes } });
    const limits = (await (await fetch(`${relay.url}/v1/limits`)).json()) as { nodes?: string[] };
    assert.deepEqual(limits.nodes, nodes);
    const preflight = await fetch(`${relay.url}/v1/send/x`, {
      method: "OPTIONS",
      headers: { origin: nodes[1]!, "access-control-request-method": "POST" },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get("access-control-allow-origin"), nodes[1]);
    assert.match(preflight.headers.get("access-control-allow-headers") ?? "", /content-type/);
    assert.equal(preflight.headers.get("access-control-allow-credentials"), null);
    const listed = await fetch(`${relay.url}/v1/limits`, { headers: { origin: nodes[0]! } });
    assert.equal(listed.headers.get("access-control-allow-origin"), nodes[0]);
    assert.match(listed.headers.get("vary") ?? "", /origin/i);
    const foreign = await fetch(`${relay.url}/v1/limits`, { headers: { origin: "https://evil.example" } });
    assert.equal(foreign.headers.get("access-control-allow-origin"), null);
    const foreignPreflight = await fetch(`${relay.url}/v1/send/x`, {
      method: "OPTIONS",
      headers: { origin: "https://evil.example", "access-control-request-method": "POST" },
    });
    assert.equal(foreignPreflight.headers.get("access-control-allow-origin"), null);

    const plain = await startTestRelay(t);
    const plainLimits = (await (await fetch(`${plain.url}/v1/limits`)).json()) as { nodes?: string[] };
    assert.equal(plainLimits.nodes, undefined);
    const none = await fetch(`${plain.url}/v1/limits`, { headers: { origin: nodes[0]! } });
    assert.equal(none.headers.get("access-control-allow-origin"), null, "no public origins: no CORS");
  });
});
