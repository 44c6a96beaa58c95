/**
 * Welcome, RFC 9420 §12.4.3 (wire form and the secrets it carries):
 *
 *     struct { opaque path_secret<V>; } PathSecret;
 *     struct { opaque joiner_secret<V>; optional<PathSecret> path_secret; PreSharedKeyID psks<V>; } GroupSecrets;
 *     struct { KeyPackageRef new_member; HPKECiphertext encrypted_group_secrets; } EncryptedGroupSecrets;
 *     struct { CipherSuite cipher_suite; EncryptedGroupSecrets secrets<V>; opaque encrypted_group_info<V>; } Welcome;
 *
 *     encrypted_group_secrets = EncryptWithLabel(init_key, "Welcome", encrypted_group_info, GroupSecrets)
 *     welcome_key   = ExpandWithLabel(welcome_secret, "key",   "", AEAD.Nk)
 *     welcome_nonce = ExpandWithLabel(welcome_secret, "nonce", "", AEAD.Nn)
 *     encrypted_group_info = AEAD.Seal(welcome_key, welcome_nonce, "", GroupInfo)
 */

import { expandWithLabel } from "../labeled-crypto.js";
import type { TlsReader, TlsWriter } from "../tls-codec.js";
import { readBytes, readList, readOptional, writeList, writeOptional } from "./codec.js";
import { type PreSharedKeyId, readPreSharedKeyId, writePreSharedKeyId } from "./psk.js";
import type { Suite } from "./suite.js";
import { type HpkeCiphertext, readHpkeCiphertext, writeHpkeCiphertext } from "./update-path.js";

export interface GroupSecrets {
  joinerSecret: Uint8Array;
  pathSecret?: Uint8Array;
  psks: PreSharedKeyId[];
}

export interface EncryptedGroupSecrets {
  newMember: Uint8Array;
  encryptedGroupSecrets: HpkeCiphertext;
}

export interface Welcome {
  cipherSuite: number;
  secrets: EncryptedGroupSecrets[];
  encryptedGroupInfo: Uint8Array;
}

export function writeGroupSecrets(w: TlsWriter, gs: GroupSecrets): void {
  w.vector(gs.joinerSecret);
  writeOptional(w, gs.pathSecret, (ww, s) => ww.vector(s));
  writeList(w, gs.psks, writePreSharedKeyId);
}

export function readGroupSecrets(r: TlsReader): GroupSecrets {
  const joinerSecret = readBytes(r);
  const pathSecret = readOptional(r, readBytes);
  const psks = readList(r, readPreSharedKeyId);
  return pathSecret === undefined ? { joinerSecret, psks } : { joinerSecret, pathSecret, psks };
}

export function writeWelcome(w: TlsWriter, m: Welcome): void {
  w.u16(m.cipherSuite);
  writeList(w, m.secrets, (ww, s) => {
    ww.vector(s.newMember);
    writeHpkeCiphertext(ww, s.encryptedGroupSecrets);
  });
  w.vector(m.encryptedGroupInfo);
}

export function readWelcome(r: TlsReader): Welcome {
  return {
    cipherSuite: r.u16(),
    secrets: readList(r, (rr) => ({
      newMember: readBytes(rr),
      encryptedGroupSecrets: readHpkeCiphertext(rr),
    })),
    encryptedGroupInfo: readBytes(r),
  };
}

export async function welcomeKeyAndNonce(
  suite: Suite,
  welcomeSecret: Uint8Array,
): Promise<{ key: Uint8Array; nonce: Uint8Array }> {
  const empty = new Uint8Array(0);
  const [key, nonce] = await Promise.all([
    expandWithLabel(suite.kdf, welcomeSecret, "key", empty, suite.hpke.keyLength),
    expandWithLabel(suite.kdf, welcomeSecret, "nonce", empty, suite.hpke.nonceLength),
  ]);
  return { key, nonce };
}
