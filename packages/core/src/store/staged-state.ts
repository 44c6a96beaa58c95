/**
 * A group state kept in a record until the commit that leads to it is seen in its queue (a pending
 * commit of ours: group-order.ts, direct-order.ts): a SerializedGroupState in base64url, whose tree
 * pieces the store already holds are left out (`tree.held` of them: they are the store's until then,
 * and the commit only goes through while the store is still at its base epoch).
 */

import { fromBase64Url, toBase64Url } from "../encoding/base64url.js";
import type { SerializedGroupState } from "../mls/engine.js";

export interface StagedState {
  epoch: string;
  epochPart: string;
  ratchetPart: string;
  /** The tree pieces after the `held` ones the store holds (mls/engine.ts TreePieces). */
  tree?: { held: number; pieces: string[] };
}

export function stagedState(s: SerializedGroupState): StagedState {
  return {
    epoch: s.epoch.toString(),
    epochPart: toBase64Url(s.epochPart),
    ratchetPart: toBase64Url(s.ratchetPart),
    ...(s.tree
      ? { tree: { held: s.tree.held, pieces: s.tree.pieces.slice(s.tree.held).map(toBase64Url) } }
      : {}),
  };
}

/** The staged state whole again: `held` is the store's tree pieces (ProfileRepository.groupTreePieces). */
export function unstagedState(r: StagedState, held: Uint8Array[]): SerializedGroupState {
  const tree = r.tree;
  return {
    epoch: BigInt(r.epoch),
    epochPart: fromBase64Url(r.epochPart),
    ratchetPart: fromBase64Url(r.ratchetPart),
    ...(tree
      ? {
          tree: { held: tree.held, pieces: [...held.slice(0, tree.held), ...tree.pieces.map(fromBase64Url)] },
        }
      : {}),
  };
}
