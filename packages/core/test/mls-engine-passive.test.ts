/**
 * Parley's RFC 9420 engine against the official welcome.json and passive-client-*.json vectors: join
 * from the Welcome (§12.4.3.1), then follow every proposal and commit (§12.4.2), matching the epoch
 * authenticator of every epoch. Node provider (the noble provider runs the building-block vectors).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { nodeCryptoProvider } from "../src/crypto/node-provider.js";
import { equalBytes, toHex } from "../src/encoding/bytes.js";
import { decryptWithLabel } from "../src/mls/labeled-crypto.js";
import { decodeExact } from "../src/mls/rfc9420/codec.js";
import { WireFormat } from "../src/mls/rfc9420/framing.js";
import { encodeGroupContext } from "../src/mls/rfc9420/group-context.js";
import { readGroupInfo, verifyGroupInfo } from "../src/mls/rfc9420/group-info.js";
import { joinFromWelcome } from "../src/mls/rfc9420/join-welcome.js";
import { keyPackageRef } from "../src/mls/rfc9420/key-package.js";
import { epochSecretsFromJoiner, welcomeSecret } from "../src/mls/rfc9420/key-schedule.js";
import { decodeMlsMessage } from "../src/mls/rfc9420/mls-message.js";
import { processMessage } from "../src/mls/rfc9420/process-message.js";
import { decodeRatchetTree } from "../src/mls/rfc9420/ratchet-tree.js";
import type { Suite } from "../src/mls/rfc9420/suite.js";
import { readGroupSecrets, welcomeKeyAndNonce } from "../src/mls/rfc9420/welcome.js";
import { vectors } from "./helpers/mls-engine-vectors.js";
import { hex } from "./helpers/mls-rfc.js";

type PC = {
  external_psks: { psk_id: string; psk: string }[];
  key_package: string;
  signature_priv: string;
  encryption_priv: string;
  init_priv: string;
  welcome: string;
  ratchet_tree: string | null;
  initial_epoch_authenticator: string;
  epochs: { proposals: string[]; commit: string; epoch_authenticator: string }[];
};

const suiteP = (): Promise<Suite> =>
  nodeCryptoProvider.mlsCiphersuite("MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519");

describe("RFC 9420 engine: welcome and passive-client vectors", () => {
  it("welcome: our Welcome decryption, GroupInfo signature and confirmation tag", async (t) => {
    const vs = vectors<Record<string, string>>(t, "welcome.json");
    if (!vs) return;
    const s = await suiteP();
    for (const v of vs) {
      const kpm = decodeMlsMessage(hex(v.key_package!));
      const wm = decodeMlsMessage(hex(v.welcome!));
      assert.ok(kpm.wireFormat === WireFormat.keyPackage && wm.wireFormat === WireFormat.welcome);
      const ref = await keyPackageRef(s, kpm.keyPackage);
      const mine = wm.welcome.secrets.find((x) => equalBytes(x.newMember, ref))!;
      const gs = decodeExact(
        "GroupSecrets",
        readGroupSecrets,
        await decryptWithLabel(
          s.hpke,
          hex(v.init_priv!),
          "Welcome",
          wm.welcome.encryptedGroupInfo,
          mine.encryptedGroupSecrets.kemOutput,
          mine.encryptedGroupSecrets.ciphertext,
        ),
      );
      const psk = new Uint8Array(32);
      const { key, nonce } = await welcomeKeyAndNonce(s, await welcomeSecret(s, gs.joinerSecret, psk));
      const gi = decodeExact(
        "GroupInfo",
        readGroupInfo,
        await s.hpke.decryptAead(key, nonce, new Uint8Array(0), wm.welcome.encryptedGroupInfo),
      );
      assert.ok(await verifyGroupInfo(s, hex(v.signer_pub!), gi));
      const e = await epochSecretsFromJoiner(s, gs.joinerSecret, psk, encodeGroupContext(gi.groupContext));
      assert.deepEqual(
        await s.hash.mac(e.confirmationKey, gi.groupContext.confirmedTranscriptHash),
        gi.confirmationTag,
      );
    }
    t.diagnostic(`${vs.length} cases`);
  });

  for (const file of [
    "passive-client-welcome.json",
    "passive-client-handling-commit.json",
    "passive-client-random.json",
  ]) {
    it(file, async (t) => {
      const vs = vectors<PC>(t, file);
      if (!vs) return;
      const s = await suiteP();
      let epochs = 0;
      for (const [n, v] of vs.entries()) {
        const kpm = decodeMlsMessage(hex(v.key_package));
        const wm = decodeMlsMessage(hex(v.welcome));
        assert.ok(kpm.wireFormat === WireFormat.keyPackage && wm.wireFormat === WireFormat.welcome);
        const psks = new Map(v.external_psks.map((p) => [p.psk_id, hex(p.psk)]));
        let state = await joinFromWelcome(s, {
          welcome: wm.welcome,
          keyPackage: kpm.keyPackage,
          initPrivateKey: hex(v.init_priv),
          encryptionPrivateKey: hex(v.encryption_priv),
          signPrivateKey: hex(v.signature_priv),
          ...(v.ratchet_tree !== null ? { ratchetTree: decodeRatchetTree(hex(v.ratchet_tree)) } : {}),
          externalPsks: (id) => psks.get(toHex(id)),
        });
        assert.deepEqual(
          state.secrets.epochAuthenticator,
          hex(v.initial_epoch_authenticator),
          `case ${n}: join`,
        );
        for (const [i, e] of v.epochs.entries()) {
          for (const p of e.proposals) {
            const r = await processMessage(state, decodeMlsMessage(hex(p)));
            assert.equal(r.kind, "proposal");
            state = r.state;
          }
          const r = await processMessage(state, decodeMlsMessage(hex(e.commit)));
          assert.equal(r.kind, "commit");
          assert.ok(r.kind === "commit" && !r.removedUs);
          state = r.state;
          assert.deepEqual(
            state.secrets.epochAuthenticator,
            hex(e.epoch_authenticator),
            `case ${n}: epoch ${i + 1}`,
          );
          epochs++;
        }
      }
      t.diagnostic(`${vs.length} cases, ${epochs} epochs`);
    });
  }
});
