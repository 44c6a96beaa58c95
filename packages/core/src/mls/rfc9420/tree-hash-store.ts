/**
 * The tree hashes (§7.8) cached in a ratchet tree, stored with it (Parley's persistence format). A
 * client loads its group state for every operation; without them the first commit after loading
 * would hash the whole tree again (2N digests, tens of ms at 10,000 members) instead of one path.
 * Only parent nodes' hashes are kept: a leaf's hash is one digest when needed, and the parents' are
 * what a path recomputation reads. The store is the member's own (encrypted), so hashes are trusted
 * like the rest of the state.
 *
 *     struct { uint32 index; opaque hash[Nh]; } StoredHash;  StoredHash hashes<V>;
 */
import type { TlsReader, TlsWriter } from "../tls-codec.js";
import { readList } from "./codec.js";
import { fail } from "./errors.js";
import type { RatchetTree } from "./ratchet-tree.js";

export function writeTreeHashes(w: TlsWriter, tree: RatchetTree): void {
  w.vectorOf((ww) => {
    for (let x = 1; x < tree.width; x += 2) {
      const h = tree.cachedHash(x);
      if (h !== undefined) ww.u32(x).vector(h);
    }
  });
}

export function readTreeHashes(r: TlsReader, tree: RatchetTree): void {
  for (const [x, hash] of readList(r, (rr) => [rr.u32(), rr.vector().slice()] as const)) {
    if (x >= tree.width || x % 2 === 0) fail("malformed", `stored tree hash for node ${x}`);
    tree.cacheHash(x, hash);
  }
}
