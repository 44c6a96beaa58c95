/**
 * RFC 9420's labelled crypto helpers (§5.1.2 SignWithLabel, §5.1.3 EncryptWithLabel, §5.2 RefHash,
 * §8 ExpandWithLabel / DeriveSecret, §9 DeriveTreeSecret), built on the primitives of a provider's
 * MlsSuite (kdf, hash, signature, hpke; crypto/mls-suite.ts), for the engine, the official test
 * vectors and the ts-mls differential tests alike.
 */
import type {
  MlsHash as Hash,
  MlsHpke as Hpke,
  MlsKdf as Kdf,
  MlsSignature as Signature,
} from "../crypto/mls-suite.js";
import { utf8 } from "../encoding/bytes.js";
import { TlsWriter } from "./tls-codec.js";

const MLS_PREFIX = "MLS 1.0 ";
const EMPTY = new Uint8Array(0);

/** ExpandWithLabel(Secret, Label, Context, Length) = KDF.Expand(Secret, KDFLabel, Length). */
export function expandWithLabel(
  kdf: Kdf,
  secret: Uint8Array,
  label: string,
  context: Uint8Array,
  length: number,
): Promise<Uint8Array> {
  const kdfLabel = new TlsWriter()
    .u16(length)
    .vector(utf8(MLS_PREFIX + label))
    .vector(context)
    .finish();
  return kdf.expand(secret, kdfLabel, length);
}

/** DeriveSecret(Secret, Label) = ExpandWithLabel(Secret, Label, "", KDF.Nh). */
export function deriveSecret(kdf: Kdf, secret: Uint8Array, label: string): Promise<Uint8Array> {
  return expandWithLabel(kdf, secret, label, EMPTY, kdf.size);
}

/** DeriveTreeSecret(Secret, Label, Generation, Length): the context is the generation as a uint32. */
export function deriveTreeSecret(
  kdf: Kdf,
  secret: Uint8Array,
  label: string,
  generation: number,
  length: number,
): Promise<Uint8Array> {
  return expandWithLabel(kdf, secret, label, new TlsWriter().u32(generation).finish(), length);
}

/** RefHash(label, value) = Hash(RefHashInput{label<V>, value<V>}); the label is used as given. */
export function refHash(hash: Hash, label: string, value: Uint8Array): Promise<Uint8Array> {
  return hash.digest(new TlsWriter().vector(utf8(label)).vector(value).finish());
}

function signContent(label: string, content: Uint8Array): Uint8Array {
  return new TlsWriter()
    .vector(utf8(MLS_PREFIX + label))
    .vector(content)
    .finish();
}

/** SignWithLabel(SignatureKey, Label, Content) = Signature.Sign(SignatureKey, SignContent). */
export function signWithLabel(
  signature: Signature,
  signKey: Uint8Array,
  label: string,
  content: Uint8Array,
): Promise<Uint8Array> {
  return signature.sign(signKey, signContent(label, content));
}

/** VerifyWithLabel; false (never a throw) for a malformed key or signature. */
export async function verifyWithLabel(
  signature: Signature,
  publicKey: Uint8Array,
  label: string,
  content: Uint8Array,
  sig: Uint8Array,
): Promise<boolean> {
  try {
    return await signature.verify(publicKey, signContent(label, content), sig);
  } catch {
    return false;
  }
}

/**
 * EncryptContexts by context buffer: a commit seals one path secret per member of each copath
 * resolution under the same GroupContext, and a Welcome seals GroupSecrets to every new member with
 * the encrypted GroupInfo (megabytes at 10,000 members: it carries the tree) as context — built once,
 * not once per recipient. Keyed by the buffer itself: callers never modify a context once built.
 */
const encryptContexts = new WeakMap<Uint8Array, { label: string; bytes: Uint8Array }>();

function encryptContext(label: string, context: Uint8Array): Uint8Array {
  const cached = encryptContexts.get(context);
  if (cached !== undefined && cached.label === label) return cached.bytes;
  const bytes = new TlsWriter(context.length + 64)
    .vector(utf8(MLS_PREFIX + label))
    .vector(context)
    .finish();
  encryptContexts.set(context, { label, bytes });
  return bytes;
}

/** EncryptWithLabel(PublicKey, Label, Context, Plaintext) = SealBase(PublicKey, EncryptContext, "", Plaintext). */
export async function encryptWithLabel(
  hpke: Hpke,
  publicKey: Uint8Array,
  label: string,
  context: Uint8Array,
  plaintext: Uint8Array,
): Promise<{ kemOutput: Uint8Array; ciphertext: Uint8Array }> {
  const pk = await hpke.importPublicKey(publicKey);
  const { enc, ct } = await hpke.seal(pk, plaintext, encryptContext(label, context), EMPTY);
  return { kemOutput: enc, ciphertext: ct };
}

/** DecryptWithLabel(PrivateKey, Label, Context, KEMOutput, Ciphertext) = OpenBase(…, EncryptContext, "", …). */
export async function decryptWithLabel(
  hpke: Hpke,
  privateKey: Uint8Array,
  label: string,
  context: Uint8Array,
  kemOutput: Uint8Array,
  ciphertext: Uint8Array,
): Promise<Uint8Array> {
  const sk = await hpke.importPrivateKey(privateKey);
  return hpke.open(sk, kemOutput, ciphertext, encryptContext(label, context), EMPTY);
}
