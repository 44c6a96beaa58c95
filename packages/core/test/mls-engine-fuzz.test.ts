/**
 * Fuzz target for Parley's RFC 9420 engine, bounded in time (PARLEY_MLS_FUZZ_MS, default 4 s in all):
 * commits (public and private), application messages, Welcomes and KeyPackages are mutated (bit
 * flips, truncation, extension, insertion, deletion, overwritten runs) and fed to the decoder and the
 * engine. Every failure must be an MlsError; nothing may succeed but the original bytes; and the
 * member's state must be untouched — afterwards the original messages still process from it.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { nodeCryptoProvider } from "../src/crypto/node-provider.js";
import { equalBytes, utf8 } from "../src/encoding/bytes.js";
import { createApplicationMessage } from "../src/mls/rfc9420/application-message.js";
import { createCommit } from "../src/mls/rfc9420/create-commit.js";
import { createGroup } from "../src/mls/rfc9420/create-group.js";
import { CredentialType } from "../src/mls/rfc9420/credential.js";
import { MlsError } from "../src/mls/rfc9420/errors.js";
import { WireFormat } from "../src/mls/rfc9420/framing.js";
import { joinFromWelcome } from "../src/mls/rfc9420/join-welcome.js";
import { validateKeyPackage } from "../src/mls/rfc9420/key-package.js";
import { decodeMlsMessage, encodeMlsMessage } from "../src/mls/rfc9420/mls-message.js";
import { newKeyPackage } from "../src/mls/rfc9420/new-key-package.js";
import { processMessage } from "../src/mls/rfc9420/process-message.js";
import type { Suite } from "../src/mls/rfc9420/suite.js";

const BUDGET_MS = Number(process.env.PARLEY_MLS_FUZZ_MS ?? 4000);

/** A small deterministic PRNG (xorshift32), so a failure can be replayed from its seed. */
function rng(seed: number) {
  let x = seed >>> 0 || 1;
  return (n: number) => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x % n;
  };
}

function mutate(bytes: Uint8Array, r: (n: number) => number): Uint8Array {
  const out = Array.from(bytes);
  const kind = r(6);
  const at = r(out.length + 1);
  if (kind === 0 && out.length > 0) out[at % out.length]! ^= 1 << r(8);
  else if (kind === 1) out.length = at;
  else if (kind === 2) for (let i = r(8) + 1; i > 0; i--) out.push(r(256));
  else if (kind === 3) out.splice(at, 0, r(256));
  else if (kind === 4 && out.length > 0) out.splice(at % out.length, r(4) + 1);
  else for (let i = 0; i < r(6) + 1 && at + i < out.length; i++) out[at + i] = r(256);
  return Uint8Array.from(out);
}

async function client(s: Suite, name: string) {
  const { signKey, publicKey } = await s.signature.keygen();
  const kp = await newKeyPackage(s, {
    credential: { type: CredentialType.basic, identity: utf8(name) },
    signatureKey: publicKey,
    signKey,
  });
  return { signKey, ...kp };
}

describe("RFC 9420 engine fuzz target", () => {
  it("mutated commits, application messages, Welcomes and KeyPackages: typed errors, no state change", async (t) => {
    const s: Suite = await nodeCryptoProvider.mlsCiphersuite("MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519");
    const [alice, bob, carol] = await Promise.all(["alice", "bob", "carol"].map((n) => client(s, n)));
    const a0 = await createGroup(s, {
      groupId: utf8("fuzz"),
      leaf: alice!.keyPackage.leafNode,
      encryptionPrivateKey: alice!.encryptionPrivateKey,
      signKey: alice!.signKey,
    });
    const c1 = await createCommit(a0, { add: [bob!.keyPackage] });
    assert.ok(c1.welcome?.wireFormat === WireFormat.welcome);
    const bobState = await joinFromWelcome(s, {
      welcome: c1.welcome.welcome,
      keyPackage: bob!.keyPackage,
      initPrivateKey: bob!.initPrivateKey,
      encryptionPrivateKey: bob!.encryptionPrivateKey,
      signPrivateKey: bob!.signKey,
    });
    const app = await createApplicationMessage(c1.state, utf8("payload"));
    const privateCommit = await createCommit(app.state, { add: [carol!.keyPackage] });
    const publicCommit = await createCommit(app.state, { add: [carol!.keyPackage], wireFormat: "public" });
    const welcome = publicCommit.welcome!;
    const targets: [string, Uint8Array][] = [
      ["application", encodeMlsMessage(app.message)],
      ["private commit", encodeMlsMessage(privateCommit.commit)],
      ["public commit", encodeMlsMessage(publicCommit.commit)],
      ["welcome", encodeMlsMessage(welcome)],
      ["key package", encodeMlsMessage({ wireFormat: WireFormat.keyPackage, keyPackage: carol!.keyPackage })],
    ];
    const before = bobState.secrets.epochAuthenticator.slice();
    const r = rng(0x9420);
    const deadline = Date.now() + BUDGET_MS;
    let runs = 0;
    while (Date.now() < deadline) {
      for (const [what, original] of targets) {
        const bytes = mutate(original, r);
        try {
          const m = decodeMlsMessage(bytes);
          if (what === "welcome") {
            if (m.wireFormat !== WireFormat.welcome) throw new MlsError("malformed", "not a Welcome");
            await joinFromWelcome(s, {
              welcome: m.welcome,
              keyPackage: carol!.keyPackage,
              initPrivateKey: carol!.initPrivateKey,
              encryptionPrivateKey: carol!.encryptionPrivateKey,
              signPrivateKey: carol!.signKey,
            });
          } else if (what === "key package") {
            if (m.wireFormat !== WireFormat.keyPackage) throw new MlsError("malformed", "not a KeyPackage");
            await validateKeyPackage(s, m.keyPackage);
          } else {
            await processMessage(bobState, m);
          }
          assert.ok(equalBytes(bytes, original), `${what}: a mutation was accepted`);
        } catch (e) {
          if (!(e instanceof MlsError))
            assert.fail(`${what}: ${String(e)} (not an MlsError) for ${Buffer.from(bytes).toString("hex")}`);
        }
        runs++;
      }
    }
    // Nothing moved: the originals still process, from the very same state.
    assert.deepEqual(bobState.secrets.epochAuthenticator, before);
    const got = await processMessage(bobState, decodeMlsMessage(targets[0]![1]));
    assert.ok(got.kind === "application" && equalBytes(got.data, utf8("payload")));
    const committed = await processMessage(got.state, decodeMlsMessage(targets[1]![1]));
    assert.ok(committed.kind === "commit");
    assert.deepEqual(
      committed.state.secrets.epochAuthenticator,
      privateCommit.state.secrets.epochAuthenticator,
    );
    t.diagnostic(`${runs} mutated inputs in ${BUDGET_MS} ms`);
  });
});
