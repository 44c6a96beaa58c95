/**
 * Commit, RFC 9420 §12.4:
 *
 *     struct { ProposalOrRefType type; select (type) { case proposal: Proposal proposal;
 *                                                      case reference: ProposalRef reference; }; } ProposalOrRef;
 *     struct { ProposalOrRef proposals<V>; optional<UpdatePath> path; } Commit;
 *
 * §12.4: "path" MUST be present if the proposal list is empty or contains any proposal type other than
 * add, psk and reinit (i.e. any Update, Remove, ExternalInit or GroupContextExtensions) — see
 * `pathRequired`, enforced on receipt with MlsError("path-required").
 */
import type { TlsReader, TlsWriter } from "../tls-codec.js";
import { readBytes, readList, readOptional, writeList, writeOptional } from "./codec.js";
import { fail } from "./errors.js";
import { type Proposal, ProposalType, readProposal, writeProposal } from "./proposals.js";
import { readUpdatePath, type UpdatePath, writeUpdatePath } from "./update-path.js";

export type ProposalOrRef = { kind: "proposal"; proposal: Proposal } | { kind: "reference"; ref: Uint8Array };

export interface Commit {
  proposals: ProposalOrRef[];
  path?: UpdatePath;
}

export function writeCommit(w: TlsWriter, c: Commit): void {
  writeList(w, c.proposals, (ww, p) => {
    if (p.kind === "proposal") writeProposal(ww.u8(1), p.proposal);
    else ww.u8(2).vector(p.ref);
  });
  writeOptional(w, c.path, writeUpdatePath);
}

export function readCommit(r: TlsReader): Commit {
  const proposals = readList(r, (rr): ProposalOrRef => {
    const t = rr.u8();
    if (t === 1) return { kind: "proposal", proposal: readProposal(rr) };
    if (t === 2) return { kind: "reference", ref: readBytes(rr) };
    return fail("malformed", `ProposalOrRefType ${t}`);
  });
  const path = readOptional(r, readUpdatePath);
  return path === undefined ? { proposals } : { proposals, path };
}

/** §12.4: whether a commit over these (resolved) proposals must carry a path. */
export function pathRequired(proposals: readonly Proposal[]): boolean {
  if (proposals.length === 0) return true;
  return proposals.some(
    (p) => p.type !== ProposalType.add && p.type !== ProposalType.psk && p.type !== ProposalType.reinit,
  );
}
