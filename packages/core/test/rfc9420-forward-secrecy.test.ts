/**
 * Forward secrecy of Rfc9420Engine's states (rfc9420-engine/state.ts `spend`): once an operation has
 * returned, the secrets the new state no longer holds are zeroed in the old one — the ratchet secret
 * a message moved past on both sides — and what the new state still holds (the past epochs' secret
 * trees a message did not touch, the epoch secrets) is left as it is.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { utf8 } from "../src/encoding/bytes.js";
import type { GroupState } from "../src/mls/engine.js";
import { unwrap } from "../src/mls/rfc9420-engine/state.js";
import { engine, engineGroup } from "./helpers/engine-group.js";

const zero = (b: Uint8Array) => b.every((x) => x === 0);
/** The application ratchet secret of `leaf` in the state's current secret tree. */
function ratchetSecret(s: GroupState, leaf: number): Uint8Array {
  const r = unwrap(s, true)
    .g.secretTree.snapshot()
    .ratchets.find((x) => x.type === "application" && x.leaf === leaf);
  assert.ok(r, "no application ratchet for that leaf yet");
  return r.secret;
}
const pastSecrets = (s: GroupState) => {
  const out: Uint8Array[] = [];
  for (const p of unwrap(s, true).past) p.secretTree.forEachSecret((b) => out.push(b));
  return out;
};

describe("forward secrecy of group states", () => {
  it("a message zeroes the ratchet secret it moved past, at the sender and the receiver, and nothing still held", async () => {
    const { alice, others } = await engineGroup(4, 0);
    // One more epoch, so both have a past one (its secret tree kept for late messages).
    const c = await engine.commit(alice, {});
    const a = c.state;
    const processed = await engine.process(others[0]!, c.commits[0]!);
    assert.equal(processed.kind, "commit");
    const bob = processed.state;
    const first = await engine.encrypt(a, utf8("one"));
    const got = await engine.process(bob, first.message);
    assert.equal(got.kind, "application");
    const myLeaf = engine.ownLeafIndex(a);
    const senderSecret = ratchetSecret(first.state, myLeaf);
    const receiverSecret = ratchetSecret(got.state, myLeaf);
    const pastBefore = pastSecrets(first.state);
    assert.ok(pastBefore.length > 0);
    const second = await engine.encrypt(first.state, utf8("two"));
    const got2 = await engine.process(got.state, second.message);
    assert.equal(got2.kind, "application");
    assert.ok(zero(senderSecret), "the sender's used ratchet secret is still there");
    assert.ok(zero(receiverSecret), "the receiver's used ratchet secret is still there");
    assert.ok(!zero(ratchetSecret(second.state, myLeaf)));
    assert.ok(!zero(ratchetSecret(got2.state, myLeaf)));
    assert.ok(
      pastSecrets(second.state).every((b) => !zero(b)),
      "a past epoch's secrets were zeroed by a message",
    );
    assert.ok(!zero(unwrap(second.state, true).g.secrets.exporterSecret));
    await assert.rejects(engine.encrypt(first.state, utf8("again")), /already used/);
  });
});
