import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  command,
  createQueue,
  envelope,
  postBytes,
  signCommand,
  startTestRelay,
  tempDir,
} from "./helpers.js";

describe("relay restart", () => {
  it("keeps queues, messages and invites across closing and reopening the same data dir", async (t) => {
    const dataDir = tempDir(t);
    const first = await startTestRelay(t, { dataDir });
    const { key, queueId, sendId } = await createQueue(first.url);
    const sent = await postBytes(`${first.url}/v1/send/${sendId}`, envelope(2048, 5));
    assert.equal(sent.status, 202);
    const invite = await postBytes(`${first.url}/v1/invites`, new Uint8Array([1, 2, 3]));
    await first.close();

    const second = await startTestRelay(t, { dataDir });
    const fetched = await command(second.url, signCommand(key, "fetch", queueId));
    assert.equal(fetched.status, 200);
    const messages = fetched.json["messages"] as { msgId: string; body: string }[];
    assert.equal(messages.length, 1);
    assert.equal(messages[0]!.msgId, sent.json["msgId"]);
    assert.deepEqual(Buffer.from(messages[0]!.body, "base64url"), Buffer.from(envelope(2048, 5)));
    const claim = await fetch(`${second.url}/v1/invites/${invite.json["inviteId"]}/claim`, {
      method: "POST",
    });
    assert.deepEqual(Buffer.from(await claim.arrayBuffer()), Buffer.from([1, 2, 3]));
    const acked = await command(second.url, signCommand(key, "ack", queueId, { msgId: messages[0]!.msgId }));
    assert.equal(acked.status, 200);
    await second.close();

    const third = await startTestRelay(t, { dataDir });
    const empty = await command(third.url, signCommand(key, "fetch", queueId));
    assert.deepEqual(empty.json, { messages: [] }, "an acknowledged message stays deleted");
  });
});
