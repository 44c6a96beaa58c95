/**
 * Proposals, RFC 9420 §12.1:
 *
 *     struct { ProposalType proposal_type; select (proposal_type) {
 *         case add: Add { KeyPackage key_package; }          case update: Update { LeafNode leaf_node; }
 *         case remove: Remove { uint32 removed; }            case psk: PreSharedKey { PreSharedKeyID psk; }
 *         case reinit: ReInit { opaque group_id<V>; ProtocolVersion version; CipherSuite cipher_suite;
 *                               Extension extensions<V>; }
 *         case external_init: ExternalInit { opaque kem_output<V>; }
 *         case group_context_extensions: GroupContextExtensions { Extension extensions<V>; } }; } Proposal;
 *     ProposalRef = RefHash("MLS 1.0 Proposal Reference", AuthenticatedContent)   (§5.2)
 */
import type { TlsReader, TlsWriter } from "../tls-codec.js";
import { readBytes } from "./codec.js";
import { fail } from "./errors.js";
import { type Extension, readExtensions, writeExtensions } from "./extensions.js";
import { type KeyPackage, readKeyPackage, writeKeyPackage } from "./key-package.js";
import { type LeafNode, readLeafNode, writeLeafNode } from "./leaf-node.js";
import { type PreSharedKeyId, readPreSharedKeyId, writePreSharedKeyId } from "./psk.js";

export const ProposalType = {
  add: 1,
  update: 2,
  remove: 3,
  psk: 4,
  reinit: 5,
  externalInit: 6,
  groupContextExtensions: 7,
} as const;

export type Proposal =
  | { type: typeof ProposalType.add; keyPackage: KeyPackage }
  | { type: typeof ProposalType.update; leafNode: LeafNode }
  | { type: typeof ProposalType.remove; removed: number }
  | { type: typeof ProposalType.psk; psk: PreSharedKeyId }
  | {
      type: typeof ProposalType.reinit;
      groupId: Uint8Array;
      version: number;
      cipherSuite: number;
      extensions: Extension[];
    }
  | { type: typeof ProposalType.externalInit; kemOutput: Uint8Array }
  | { type: typeof ProposalType.groupContextExtensions; extensions: Extension[] };

/** The proposal body without its type (what the `messages` vectors serialize). */
export function writeProposalBody(w: TlsWriter, p: Proposal): void {
  switch (p.type) {
    case ProposalType.add:
      writeKeyPackage(w, p.keyPackage);
      return;
    case ProposalType.update:
      writeLeafNode(w, p.leafNode);
      return;
    case ProposalType.remove:
      w.u32(p.removed);
      return;
    case ProposalType.psk:
      writePreSharedKeyId(w, p.psk);
      return;
    case ProposalType.reinit:
      w.vector(p.groupId).u16(p.version).u16(p.cipherSuite);
      writeExtensions(w, p.extensions);
      return;
    case ProposalType.externalInit:
      w.vector(p.kemOutput);
      return;
    case ProposalType.groupContextExtensions:
      writeExtensions(w, p.extensions);
      return;
  }
}

export function readProposalBody(r: TlsReader, type: number): Proposal {
  switch (type) {
    case ProposalType.add:
      return { type, keyPackage: readKeyPackage(r) };
    case ProposalType.update:
      return { type, leafNode: readLeafNode(r) };
    case ProposalType.remove:
      return { type, removed: r.u32() };
    case ProposalType.psk:
      return { type, psk: readPreSharedKeyId(r) };
    case ProposalType.reinit:
      return {
        type,
        groupId: readBytes(r),
        version: r.u16(),
        cipherSuite: r.u16(),
        extensions: readExtensions(r),
      };
    case ProposalType.externalInit:
      return { type, kemOutput: readBytes(r) };
    case ProposalType.groupContextExtensions:
      return { type, extensions: readExtensions(r) };
    default:
      return fail("unsupported", `proposal type ${type}`);
  }
}

export function writeProposal(w: TlsWriter, p: Proposal): void {
  w.u16(p.type);
  writeProposalBody(w, p);
}

export function readProposal(r: TlsReader): Proposal {
  return readProposalBody(r, r.u16());
}
