/**
 * The key schedule, RFC 9420 §8 (and the exporter, §8.5):
 *
 *     joiner_secret = ExpandWithLabel(KDF.Extract(init_secret_[n-1], commit_secret), "joiner", GroupContext_[n], KDF.Nh)
 *     member        = KDF.Extract(joiner_secret, psk_secret)
 *     welcome_secret = DeriveSecret(member, "welcome")
 *     epoch_secret  = ExpandWithLabel(member, "epoch", GroupContext_[n], KDF.Nh)
 *     X_secret      = DeriveSecret(epoch_secret, label) for sender data, encryption, exporter,
 *                     external, confirm, membership, resumption, authentication, init
 *     external_pub  = DeriveKeyPair(external_secret).public
 *     MLS-Exporter(Label, Context, Length) =
 *         ExpandWithLabel(DeriveSecret(exporter_secret, Label), "exported", Hash(Context), Length)
 *
 * A new group starts from a random init_secret (epoch 0) and commit_secret = 0 (§8, §11).
 */
import { deriveSecret, expandWithLabel } from "../labeled-crypto.js";
import type { Suite } from "./suite.js";

export interface EpochSecrets {
  joinerSecret: Uint8Array;
  welcomeSecret: Uint8Array;
  epochSecret: Uint8Array;
  senderDataSecret: Uint8Array;
  encryptionSecret: Uint8Array;
  exporterSecret: Uint8Array;
  externalSecret: Uint8Array;
  confirmationKey: Uint8Array;
  membershipKey: Uint8Array;
  resumptionPsk: Uint8Array;
  epochAuthenticator: Uint8Array;
  initSecret: Uint8Array;
}

export async function joinerSecret(
  suite: Suite,
  initSecret: Uint8Array,
  commitSecret: Uint8Array,
  groupContext: Uint8Array,
): Promise<Uint8Array> {
  const prk = await suite.kdf.extract(initSecret, commitSecret);
  return expandWithLabel(suite.kdf, prk, "joiner", groupContext, suite.kdf.size);
}

/** welcome_secret only (a joiner needs it before it can read the GroupContext). */
export async function welcomeSecret(
  suite: Suite,
  joiner: Uint8Array,
  pskSecret: Uint8Array,
): Promise<Uint8Array> {
  return deriveSecret(suite.kdf, await suite.kdf.extract(joiner, pskSecret), "welcome");
}

export async function epochSecretsFromJoiner(
  suite: Suite,
  joiner: Uint8Array,
  pskSecret: Uint8Array,
  groupContext: Uint8Array,
): Promise<EpochSecrets> {
  const kdf = suite.kdf;
  const member = await kdf.extract(joiner, pskSecret);
  const [welcome, epochSecret] = await Promise.all([
    deriveSecret(kdf, member, "welcome"),
    expandWithLabel(kdf, member, "epoch", groupContext, kdf.size),
  ]);
  const d = (label: string) => deriveSecret(kdf, epochSecret, label);
  const [senderData, encryption, exporter, external, confirm, membership, resumption, authentication, init] =
    await Promise.all([
      d("sender data"),
      d("encryption"),
      d("exporter"),
      d("external"),
      d("confirm"),
      d("membership"),
      d("resumption"),
      d("authentication"),
      d("init"),
    ]);
  return {
    joinerSecret: joiner,
    welcomeSecret: welcome,
    epochSecret,
    senderDataSecret: senderData,
    encryptionSecret: encryption,
    exporterSecret: exporter,
    externalSecret: external,
    confirmationKey: confirm,
    membershipKey: membership,
    resumptionPsk: resumption,
    epochAuthenticator: authentication,
    initSecret: init,
  };
}

export async function epochSecrets(
  suite: Suite,
  initSecret: Uint8Array,
  commitSecret: Uint8Array,
  pskSecret: Uint8Array,
  groupContext: Uint8Array,
): Promise<EpochSecrets> {
  const joiner = await joinerSecret(suite, initSecret, commitSecret, groupContext);
  return epochSecretsFromJoiner(suite, joiner, pskSecret, groupContext);
}

export async function externalPub(suite: Suite, externalSecret: Uint8Array): Promise<Uint8Array> {
  const { publicKey } = await suite.hpke.deriveKeyPair(externalSecret);
  return suite.hpke.exportPublicKey(publicKey);
}

export async function mlsExporter(
  suite: Suite,
  exporterSecret: Uint8Array,
  label: string,
  context: Uint8Array,
  length: number,
): Promise<Uint8Array> {
  const secret = await deriveSecret(suite.kdf, exporterSecret, label);
  return expandWithLabel(suite.kdf, secret, "exported", await suite.hash.digest(context), length);
}
