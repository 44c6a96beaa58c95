import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  byId,
  captureLogs,
  command,
  createQueue,
  envelope,
  isMsg,
  newKey,
  openSocket,
  postBytes,
  postJson,
  signCommand,
  startTestRelay,
} from "./helpers.js";

describe("relay logging", () => {
  it("logs method, route pattern, status and duration at info, and no ids, keys, bodies or addresses", async (t) => {
    const logs = captureLogs("info");
    const relay = await startTestRelay(t, { logger: logs.logger });
    const secrets: string[] = [];

    const { key, queueId, sendId } = await createQueue(relay.url);
    secrets.push(key.publicKey, queueId, sendId);
    const body = envelope(512, 0x41);
    const sent = await postBytes(`${relay.url}/v1/send/${sendId}`, body);
    secrets.push(sent.json["msgId"] as string, Buffer.from(body).toString("base64url").slice(0, 40));
    const fetchCmd = signCommand(key, "fetch", queueId);
    secrets.push(fetchCmd.nonce, fetchCmd.sig);
    assert.equal((await command(relay.url, fetchCmd)).status, 200);
    assert.equal((await command(relay.url, fetchCmd)).status, 409);
    const invite = await postBytes(`${relay.url}/v1/invites`, new Uint8Array(64).fill(0x42));
    secrets.push(invite.json["inviteId"] as string);
    await fetch(`${relay.url}/v1/invites/${invite.json["inviteId"]}/claim?token=${queueId}`, {
      method: "POST",
    });

    // Errors, an unknown route carrying an id, a bad upgrade: none may leak the path.
    await postJson(`${relay.url}/v1/queues/command`, `{"queueId":"${queueId}"`);
    await fetch(`${relay.url}/v1/unknown/${queueId}`);
    await postBytes(`${relay.url}/v1/send/${sendId}`, new Uint8Array(1000));
    await openSocket(relay.url, `/v1/send/${sendId}`).catch(() => {});

    const ws = await openSocket(relay.url);
    const sub = signCommand(key, "sub", queueId);
    secrets.push(sub.nonce);
    ws.send({ ...sub, id: 1 });
    await ws.next(byId(1));
    const pushed = await ws.next(isMsg);
    ws.send({ ...signCommand(key, "ack", queueId, { msgId: pushed["msgId"] as string }), id: 2 });
    await ws.next(byId(2));
    ws.send(`{"bad": "${queueId}"`);
    await ws.next(byId(null));
    ws.send({ ...signCommand(newKey(), "sub", queueId), id: 3 });
    await ws.next(byId(3));
    await ws.close();
    await relay.close();

    const text = logs.text();
    assert.ok(logs.lines.length > 5, "the relay did log");
    assert.match(text, /"route":"\/v1\/send\/:sendId"/, "routes are logged as patterns");
    assert.match(text, /"method":"POST"/);
    assert.match(text, /"status":202/);
    assert.match(text, /"ms":/);
    for (const secret of secrets) assert.ok(!text.includes(secret), `log contains ${secret}`);
    for (const line of logs.lines) {
      const entry = JSON.parse(line) as Record<string, unknown>;
      for (const field of ["req", "res", "url", "path", "remoteAddress", "remotePort", "headers", "ip"]) {
        assert.ok(!(field in entry), `log line has a ${field} field: ${line}`);
      }
      if (!String(entry["msg"]).startsWith("Server listening")) {
        assert.ok(!line.includes("127.0.0.1"), `client address in ${line}`);
      }
    }
  });
});
