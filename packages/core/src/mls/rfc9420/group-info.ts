/**
 * GroupInfo, RFC 9420 §12.4.3:
 *
 *     struct { GroupContext group_context; Extension extensions<V>; MAC confirmation_tag; uint32 signer; } GroupInfoTBS;
 *     struct { …GroupInfoTBS fields…; opaque signature<V>; } GroupInfo;
 *     signature = SignWithLabel(signer's key, "GroupInfoTBS", GroupInfoTBS)
 */

import { signWithLabel, verifyWithLabel } from "../labeled-crypto.js";
import { type TlsReader, TlsWriter } from "../tls-codec.js";
import { readBytes } from "./codec.js";
import { type Extension, readExtensions, writeExtensions } from "./extensions.js";
import { type GroupContext, readGroupContext, writeGroupContext } from "./group-context.js";
import type { Suite } from "./suite.js";

export interface GroupInfo {
  groupContext: GroupContext;
  extensions: Extension[];
  confirmationTag: Uint8Array;
  signer: number;
  signature: Uint8Array;
}

function writeTbs(w: TlsWriter, gi: Omit<GroupInfo, "signature">): void {
  writeGroupContext(w, gi.groupContext);
  writeExtensions(w, gi.extensions);
  w.vector(gi.confirmationTag).u32(gi.signer);
}

export function writeGroupInfo(w: TlsWriter, gi: GroupInfo): void {
  writeTbs(w, gi);
  w.vector(gi.signature);
}

export function readGroupInfo(r: TlsReader): GroupInfo {
  return {
    groupContext: readGroupContext(r),
    extensions: readExtensions(r),
    confirmationTag: readBytes(r),
    signer: r.u32(),
    signature: readBytes(r),
  };
}

const tbs = (gi: Omit<GroupInfo, "signature">): Uint8Array => {
  const w = new TlsWriter();
  writeTbs(w, gi);
  return w.finish();
};

export async function signGroupInfo(
  suite: Suite,
  signKey: Uint8Array,
  gi: Omit<GroupInfo, "signature">,
): Promise<GroupInfo> {
  return { ...gi, signature: await signWithLabel(suite.signature, signKey, "GroupInfoTBS", tbs(gi)) };
}

export const verifyGroupInfo = (suite: Suite, publicKey: Uint8Array, gi: GroupInfo): Promise<boolean> =>
  verifyWithLabel(suite.signature, publicKey, "GroupInfoTBS", tbs(gi), gi.signature);
