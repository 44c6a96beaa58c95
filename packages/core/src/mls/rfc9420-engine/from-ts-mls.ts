/**
 * Converts a group state saved by TsMlsEngine (state-codec.ts) into one of Rfc9420Engine: the ratchet
 * tree, GroupContext, our leaf, signature key, path private keys, the key-schedule secrets of the
 * epoch, the interim transcript hash and the secret tree with every ratchet where it stood (so that
 * no generation is ever used twice). Earlier epochs are dropped: late messages of them no longer open.
 *
 * A state TsMlsEngine marked "exposed" (a removal committed without a path, not yet repaired) is
 * refused: Rfc9420Engine has no such notion, and sending in that epoch would reach the removed member.
 */
import { clientStateEncoder, encode } from "ts-mls";
import type { CryptoProvider } from "../../crypto/provider.js";
import { MlsProcessingError, type SerializedGroupState } from "../engine.js";
import { deriveTreeSecret } from "../labeled-crypto.js";
import { readGroupContext } from "../rfc9420/group-context.js";
import type { GroupState as RfcState } from "../rfc9420/group-state.js";
import type { EpochSecrets } from "../rfc9420/key-schedule.js";
import { readRatchetTree } from "../rfc9420/ratchet-tree.js";
import { SecretTree, type SecretTreeSnapshot } from "../rfc9420/secret-tree.js";
import { suiteFor } from "../rfc9420/suite.js";
import type { PathKeys } from "../rfc9420/treekem.js";
import { decodeGroupState as decodeTsMls } from "../state-codec.js";
import { TlsReader, TlsWriter } from "../tls-codec.js";
import { deserializeInner, serializeInner } from "./state.js";

export class TsMlsStateError extends MlsProcessingError {
  override name = "TsMlsStateError";
}

/** True when `serialized` is in TsMlsEngine's format (its epoch part starts with version byte 1). */
export function isTsMlsState(serialized: SerializedGroupState): boolean {
  try {
    decodeTsMls(serialized);
    return true;
  } catch {
    return false;
  }
}

export async function convertTsMlsState(
  crypto: CryptoProvider,
  serialized: SerializedGroupState,
): Promise<SerializedGroupState> {
  let decoded: ReturnType<typeof decodeTsMls>;
  try {
    decoded = decodeTsMls(serialized);
  } catch (e) {
    throw new TsMlsStateError(`not a TsMlsEngine group state: ${(e as Error).message}`);
  }
  const { client, exposed } = decoded;
  if (exposed) throw new TsMlsStateError("the epoch is exposed to a removed member; not converted");
  if (client.unappliedProposals && Object.keys(client.unappliedProposals).length > 0)
    throw new TsMlsStateError("state holds unapplied proposals");
  const suite = await suiteFor(crypto);
  // clientStateEncoder begins with the public part: GroupContext, then the ratchet tree (RFC encodings).
  const r = new TlsReader(encode(clientStateEncoder, client));
  const context = readGroupContext(r);
  const tree = readRatchetTree(r);
  if (context.epoch !== serialized.epoch) throw new TsMlsStateError("stored epoch disagrees");
  const myLeaf = client.privatePath.leafIndex;
  if (tree.leaf(myLeaf) === undefined) throw new TsMlsStateError("our leaf is blank");
  const keys: PathKeys = new Map();
  for (const [x, privateKey] of Object.entries(client.privatePath.privateKeys)) {
    const n = tree.node(Number(x));
    const publicKey = n?.kind === "leaf" ? n.leaf.encryptionKey : n?.parent.encryptionKey;
    if (publicKey === undefined) continue; // a key for a node since blanked: nothing to decrypt with it
    keys.set(Number(x), { privateKey: privateKey.slice(), publicKey: publicKey.slice() });
  }
  const ks = client.keySchedule;
  const none = new Uint8Array(0);
  const secrets: EpochSecrets = {
    // Used only while an epoch is made; ts-mls does not keep them.
    joinerSecret: none,
    welcomeSecret: none,
    epochSecret: none,
    encryptionSecret: none,
    senderDataSecret: ks.senderDataSecret.slice(),
    exporterSecret: ks.exporterSecret.slice(),
    externalSecret: ks.externalSecret.slice(),
    confirmationKey: ks.confirmationKey.slice(),
    membershipKey: ks.membershipKey.slice(),
    resumptionPsk: ks.resumptionPsk.slice(),
    epochAuthenticator: ks.epochAuthenticator.slice(),
    initSecret: ks.initSecret.slice(),
  };
  // §8.2: interim_transcript_hash = Hash(confirmed_transcript_hash || InterimTranscriptHashInput)
  const interimTranscriptHash = await suite.hash.digest(
    new TlsWriter().raw(context.confirmedTranscriptHash).vector(client.confirmationTag).finish(),
  );
  const st = client.secretTree;
  if (st.leafWidth !== tree.leafCount) throw new TsMlsStateError("secret tree and ratchet tree disagree");
  const snapshot: SecretTreeSnapshot = { leafCount: st.leafWidth, nodes: [], ratchets: [] };
  for (const [x, secret] of Object.entries(st.intermediateNodes))
    snapshot.nodes.push([Number(x), secret.slice()]);
  for (const [x, leaf] of Object.entries(st.leafNodes)) {
    for (const type of ["handshake", "application"] as const) {
      const g = leaf[type];
      const skipped: [number, { key: Uint8Array; nonce: Uint8Array }][] = [];
      for (const [gen, secret] of Object.entries(g.unusedGenerations)) {
        const n = Number(gen);
        skipped.push([
          n,
          {
            key: await deriveTreeSecret(suite.kdf, secret, "key", n, suite.hpke.keyLength),
            nonce: await deriveTreeSecret(suite.kdf, secret, "nonce", n, suite.hpke.nonceLength),
          },
        ]);
      }
      snapshot.ratchets.push({
        type,
        leaf: Number(x) / 2,
        generation: g.generation,
        secret: g.secret.slice(),
        skipped,
      });
    }
  }
  const g: RfcState = {
    suite,
    context,
    tree,
    myLeaf,
    signKey: client.signaturePrivateKey.slice(),
    keys,
    secrets,
    secretTree: SecretTree.restore(suite, snapshot),
    interimTranscriptHash,
    proposals: new Map(),
    resumptionPsks: new Map([[context.epoch, secrets.resumptionPsk]]),
    externalPsks: () => undefined,
  };
  const removed = client.groupActiveState.kind === "removedFromGroup";
  const parts = serializeInner({ g, past: [], removed });
  deserializeInner(suite, context.epoch, parts); // what we write must load
  return { epoch: context.epoch, ...parts };
}
