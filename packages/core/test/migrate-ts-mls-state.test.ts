/**
 * Migration 4: a group state made by TsMlsEngine, converted, keeps working on Rfc9420Engine with a
 * member that stayed on the same group (its own state converted too): same epoch and exporter
 * secret, messages both ways, a commit with a path from either side.
 */
import assert from "node:assert/strict";
import { it } from "node:test";
import { nodeCryptoProvider as crypto } from "../src/crypto/node-provider.js";
import { equalBytes, utf8 } from "../src/encoding/bytes.js";
import { createIdentity } from "../src/identity/identity-key.js";
import { convertTsMlsState } from "../src/mls/rfc9420-engine/from-ts-mls.js";
import { Rfc9420Engine } from "../src/mls/rfc9420-engine/index.js";
import { TsMlsEngine } from "../src/mls/ts-mls-engine.js";

it("converts TsMlsEngine group states to Rfc9420Engine states that interoperate", async () => {
  const ts = new TsMlsEngine(crypto);
  const rfc = new Rfc9420Engine(crypto);
  const a = await createIdentity(crypto);
  const b = await createIdentity(crypto);
  let sa = await ts.createGroup(
    crypto.randomBytes(16),
    a.device,
    await ts.createKeyPackage(a.device),
    utf8("g"),
  );
  const kpb = await ts.createKeyPackage(b.device);
  const added = await ts.addMembers(sa, [kpb.publicMessage]);
  sa = added.state;
  let sb = await ts.joinFromWelcome(added.welcome, kpb);
  // some traffic on ts-mls first, so that ratchets have moved
  for (let i = 0; i < 3; i++) {
    const m = await ts.encrypt(sa, utf8(`x${i}`));
    sa = m.state;
    sb = (await ts.process(sb, m.message)).state;
  }
  let ra = rfc.deserialize(await convertTsMlsState(crypto, ts.serialize(sa)));
  let rb = rfc.deserialize(await convertTsMlsState(crypto, ts.serialize(sb)));
  const ctx = utf8("c");
  assert.ok(equalBytes(await rfc.exportSecret(ra, "l", ctx, 32), await ts.exportSecret(sa, "l", ctx, 32)));
  const m1 = await rfc.encrypt(ra, utf8("after"));
  ra = m1.state;
  const in1 = await rfc.process(rb, m1.message);
  assert.equal(in1.kind, "application");
  rb = in1.state;
  const m2 = await rfc.encrypt(rb, utf8("back"));
  rb = m2.state;
  const in2 = await rfc.process(ra, m2.message);
  ra = in2.state;
  const up = await rfc.updateKeys(rb);
  rb = up.state;
  ra = (await rfc.process(ra, up.commit)).state;
  const up2 = await rfc.updateKeys(ra);
  ra = up2.state;
  rb = (await rfc.process(rb, up2.commit)).state;
  assert.equal(ra.epoch, rb.epoch);
  assert.ok(equalBytes(await rfc.exportSecret(ra, "l", ctx, 32), await rfc.exportSecret(rb, "l", ctx, 32)));
});
