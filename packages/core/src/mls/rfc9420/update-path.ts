/**
 * UpdatePath, RFC 9420 §7.6 (wire form):
 *
 *     struct { opaque kem_output<V>; opaque ciphertext<V>; } HPKECiphertext;
 *     struct { HPKEPublicKey encryption_key; HPKECiphertext encrypted_path_secret<V>; } UpdatePathNode;
 *     struct { LeafNode leaf_node; UpdatePathNode nodes<V>; } UpdatePath;
 *
 * One UpdatePathNode per node of the sender's filtered direct path; one ciphertext per node of the
 * matching copath child's resolution (minus the leaves being added by the same commit).
 */
import type { TlsReader, TlsWriter } from "../tls-codec.js";
import { readBytes, readList, writeList } from "./codec.js";
import { type LeafNode, readLeafNode, writeLeafNode } from "./leaf-node.js";

export interface HpkeCiphertext {
  kemOutput: Uint8Array;
  ciphertext: Uint8Array;
}

export interface UpdatePathNode {
  encryptionKey: Uint8Array;
  encryptedPathSecret: HpkeCiphertext[];
}

export interface UpdatePath {
  leafNode: LeafNode;
  nodes: UpdatePathNode[];
}

export const writeHpkeCiphertext = (w: TlsWriter, c: HpkeCiphertext): void => {
  w.vector(c.kemOutput).vector(c.ciphertext);
};

export const readHpkeCiphertext = (r: TlsReader): HpkeCiphertext => ({
  kemOutput: readBytes(r),
  ciphertext: readBytes(r),
});

export function writeUpdatePath(w: TlsWriter, p: UpdatePath): void {
  writeLeafNode(w, p.leafNode);
  writeList(w, p.nodes, (ww, n) => {
    ww.vector(n.encryptionKey);
    writeList(ww, n.encryptedPathSecret, writeHpkeCiphertext);
  });
}

export function readUpdatePath(r: TlsReader): UpdatePath {
  return {
    leafNode: readLeafNode(r),
    nodes: readList(r, (rr) => ({
      encryptionKey: readBytes(rr),
      encryptedPathSecret: readList(rr, readHpkeCiphertext),
    })),
  };
}
