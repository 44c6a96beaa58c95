/**
 * Pre-shared keys, RFC 9420 §8.4:
 *
 *     struct { PSKType psktype; select (psktype) { case external: opaque psk_id<V>;
 *              case resumption: ResumptionPSKUsage usage; opaque psk_group_id<V>; uint64 psk_epoch; };
 *              opaque psk_nonce<V>; } PreSharedKeyID;
 *     struct { PreSharedKeyID id; uint16 index; uint16 count; } PSKLabel;
 *
 *     psk_extracted_[i] = KDF.Extract(0, psk_[i])
 *     psk_input_[i]     = ExpandWithLabel(psk_extracted_[i], "derived psk", PSKLabel, KDF.Nh)
 *     psk_secret_[0]    = 0;   psk_secret_[i+1] = KDF.Extract(psk_input_[i], psk_secret_[i])
 */

import { expandWithLabel } from "../labeled-crypto.js";
import { type TlsReader, TlsWriter } from "../tls-codec.js";
import { readBytes } from "./codec.js";
import { fail } from "./errors.js";
import type { Suite } from "./suite.js";

export const PskType = { external: 1, resumption: 2 } as const;
export const ResumptionPskUsage = { application: 1, reinit: 2, branch: 3 } as const;

export type PreSharedKeyId =
  | { type: typeof PskType.external; pskId: Uint8Array; nonce: Uint8Array }
  | { type: typeof PskType.resumption; usage: number; groupId: Uint8Array; epoch: bigint; nonce: Uint8Array };

export function writePreSharedKeyId(w: TlsWriter, id: PreSharedKeyId): void {
  w.u8(id.type);
  if (id.type === PskType.external) w.vector(id.pskId);
  else w.u8(id.usage).vector(id.groupId).u64(id.epoch);
  w.vector(id.nonce);
}

export function readPreSharedKeyId(r: TlsReader): PreSharedKeyId {
  const type = r.u8();
  if (type === PskType.external) return { type, pskId: readBytes(r), nonce: readBytes(r) };
  if (type === PskType.resumption) {
    const usage = r.u8();
    if (usage < 1 || usage > 3) fail("malformed", `resumption PSK usage ${usage}`);
    return { type, usage, groupId: readBytes(r), epoch: r.u64(), nonce: readBytes(r) };
  }
  return fail("malformed", `psk type ${type}`);
}

export async function pskSecret(
  suite: Suite,
  psks: readonly { id: PreSharedKeyId; psk: Uint8Array }[],
): Promise<Uint8Array> {
  const kdf = suite.kdf;
  const zero = new Uint8Array(kdf.size);
  let secret: Uint8Array = zero;
  for (const [i, p] of psks.entries()) {
    const extracted = await kdf.extract(zero, p.psk);
    const w = new TlsWriter();
    writePreSharedKeyId(w, p.id);
    const label = w.u16(i).u16(psks.length).finish();
    const input = await expandWithLabel(kdf, extracted, "derived psk", label, kdf.size);
    secret = await kdf.extract(input, secret);
  }
  return secret;
}
