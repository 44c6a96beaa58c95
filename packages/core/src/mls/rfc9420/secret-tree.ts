/**
 * The secret tree and its per-sender ratchets, RFC 9420 §9:
 *
 *     tree_node_[root]_secret = encryption_secret
 *     tree_node_[left(x)]_secret  = ExpandWithLabel(tree_node_[x]_secret, "tree", "left",  KDF.Nh)
 *     tree_node_[right(x)]_secret = ExpandWithLabel(tree_node_[x]_secret, "tree", "right", KDF.Nh)
 *     handshake_ratchet_secret_[N]_[0]   = ExpandWithLabel(tree_node_[N]_secret, "handshake", "", KDF.Nh)
 *     application_ratchet_secret_[N]_[0] = ExpandWithLabel(tree_node_[N]_secret, "application", "", KDF.Nh)
 *     ratchet_key_[i]_[j]    = DeriveTreeSecret(ratchet_secret_[i]_[j], "key",    j, AEAD.Nk)
 *     ratchet_nonce_[i]_[j]  = DeriveTreeSecret(ratchet_secret_[i]_[j], "nonce",  j, AEAD.Nn)
 *     ratchet_secret_[i]_[j+1] = DeriveTreeSecret(ratchet_secret_[i]_[j], "secret", j, KDF.Nh)
 *
 * §9.2 deletion schedule: a node secret is dropped once its children are derived, a ratchet secret
 * once the next is derived, and a key once it is used. Keys for skipped generations are kept (up to
 * MAX_SKIP per ratchet, for out-of-order delivery) and consumed at most once: a replayed generation
 * is refused.
 *
 * Values are immutable-by-convention: `clone()` copies only the maps (the derived frontier, a few
 * entries per active sender), and consumption happens on the clone a caller commits only on success.
 */

import { utf8 } from "../../encoding/bytes.js";
import { deriveTreeSecret, expandWithLabel } from "../labeled-crypto.js";
import { fail } from "./errors.js";
import type { Suite } from "./suite.js";
import { left, right, root } from "./tree-math.js";

export type RatchetType = "handshake" | "application";

export interface RatchetKey {
  key: Uint8Array;
  nonce: Uint8Array;
  generation: number;
}

interface Ratchet {
  generation: number;
  secret: Uint8Array;
  skipped: Map<number, { key: Uint8Array; nonce: Uint8Array }>;
}

export interface SecretTreeSnapshot {
  leafCount: number;
  nodes: [number, Uint8Array][];
  ratchets: {
    type: RatchetType;
    leaf: number;
    generation: number;
    secret: Uint8Array;
    skipped: [number, { key: Uint8Array; nonce: Uint8Array }][];
  }[];
}

export const MAX_SKIP = 1000;
const EMPTY = new Uint8Array(0);

export class SecretTree {
  private constructor(
    private readonly suite: Suite,
    readonly leafCount: number,
    private nodes: Map<number, Uint8Array>,
    private ratchets: Map<string, Ratchet>,
  ) {}

  static create(suite: Suite, encryptionSecret: Uint8Array, leafCount: number): SecretTree {
    return new SecretTree(suite, leafCount, new Map([[root(leafCount), encryptionSecret]]), new Map());
  }

  /** Everything the tree holds, for persistence (group-state-codec.ts). */
  snapshot(): SecretTreeSnapshot {
    return {
      leafCount: this.leafCount,
      nodes: [...this.nodes.entries()],
      ratchets: [...this.ratchets.entries()].map(([id, r]) => {
        const [type, leaf] = id.split(":") as [RatchetType, string];
        return {
          type,
          leaf: Number(leaf),
          generation: r.generation,
          secret: r.secret,
          skipped: [...r.skipped.entries()],
        };
      }),
    };
  }

  /** Calls `fn` with every secret buffer the tree holds, as held (no snapshot: nothing allocated). */
  forEachSecret(fn: (secret: Uint8Array) => void): void {
    for (const secret of this.nodes.values()) fn(secret);
    for (const r of this.ratchets.values()) {
      fn(r.secret);
      for (const k of r.skipped.values()) {
        fn(k.key);
        fn(k.nonce);
      }
    }
  }

  static restore(suite: Suite, s: SecretTreeSnapshot): SecretTree {
    const ratchets = new Map<string, Ratchet>();
    for (const r of s.ratchets) {
      ratchets.set(`${r.type}:${r.leaf}`, {
        generation: r.generation,
        secret: r.secret,
        skipped: new Map(r.skipped),
      });
    }
    return new SecretTree(suite, s.leafCount, new Map(s.nodes), ratchets);
  }

  clone(): SecretTree {
    const ratchets = new Map<string, Ratchet>();
    for (const [k, r] of this.ratchets) ratchets.set(k, { ...r, skipped: new Map(r.skipped) });
    return new SecretTree(this.suite, this.leafCount, new Map(this.nodes), ratchets);
  }

  /** tree_node_[2·leaf]_secret, deriving (and dropping) the secrets above it. */
  private async leafSecret(leaf: number): Promise<Uint8Array> {
    const target = 2 * leaf;
    const have = this.nodes.get(target);
    if (have !== undefined) return have;
    // Walk down from the lowest ancestor whose secret is still held.
    let x = root(this.leafCount);
    const path: number[] = [];
    while (x !== target) {
      path.push(x);
      x = target < x ? left(x) : right(x);
    }
    let start = -1;
    for (let i = path.length - 1; i >= 0; i--) {
      if (this.nodes.has(path[i]!)) {
        start = i;
        break;
      }
    }
    if (start < 0) fail("generation-consumed", `secret tree leaf ${leaf} already consumed`);
    for (let i = start; i < path.length; i++) {
      const node = path[i]!;
      const secret = this.nodes.get(node)!;
      const size = this.suite.kdf.size;
      const [l, r] = await Promise.all([
        expandWithLabel(this.suite.kdf, secret, "tree", utf8("left"), size),
        expandWithLabel(this.suite.kdf, secret, "tree", utf8("right"), size),
      ]);
      this.nodes.delete(node);
      this.nodes.set(left(node), l);
      this.nodes.set(right(node), r);
    }
    return this.nodes.get(target)!;
  }

  private async ratchet(leaf: number, type: RatchetType): Promise<Ratchet> {
    if (!Number.isInteger(leaf) || leaf < 0 || leaf >= this.leafCount) {
      fail("malformed", `leaf ${leaf} outside the secret tree`);
    }
    const id = `${type}:${leaf}`;
    let r = this.ratchets.get(id);
    if (r === undefined) {
      const leafSecret = await this.leafSecret(leaf);
      const [h, a] = await Promise.all([
        expandWithLabel(this.suite.kdf, leafSecret, "handshake", EMPTY, this.suite.kdf.size),
        expandWithLabel(this.suite.kdf, leafSecret, "application", EMPTY, this.suite.kdf.size),
      ]);
      this.nodes.delete(2 * leaf);
      this.ratchets.set(`handshake:${leaf}`, { generation: 0, secret: h, skipped: new Map() });
      this.ratchets.set(`application:${leaf}`, { generation: 0, secret: a, skipped: new Map() });
      r = this.ratchets.get(id)!;
    }
    return r;
  }

  private async keyAt(r: Ratchet): Promise<{ key: Uint8Array; nonce: Uint8Array }> {
    const [key, nonce] = await Promise.all([
      deriveTreeSecret(this.suite.kdf, r.secret, "key", r.generation, this.suite.hpke.keyLength),
      deriveTreeSecret(this.suite.kdf, r.secret, "nonce", r.generation, this.suite.hpke.nonceLength),
    ]);
    return { key, nonce };
  }

  private async advance(r: Ratchet): Promise<void> {
    r.secret = await deriveTreeSecret(this.suite.kdf, r.secret, "secret", r.generation, this.suite.kdf.size);
    r.generation++;
  }

  /** The generation our own ratchet (sending) hands out next, without deriving anything. */
  sendingGeneration(leaf: number, type: RatchetType): number {
    return this.ratchets.get(`${type}:${leaf}`)?.generation ?? 0;
  }

  /**
   * Moves our own ratchet (sending) on to `generation`: the keys in between are never derived, so
   * never used (§9.2 deletes each ratchet secret once the next is derived). For a sender that may
   * have lost a state it had already sent from (a power cut after the ciphertext left): it goes
   * past every generation it could have used. Never backwards.
   */
  async skipTo(leaf: number, type: RatchetType, generation: number): Promise<void> {
    const r = await this.ratchet(leaf, type);
    if (generation - r.generation > MAX_SKIP)
      fail("generation-too-far", `generation ${generation} too far ahead`);
    while (r.generation < generation) await this.advance(r);
  }

  /** The next key of our own ratchet (sending). */
  async next(leaf: number, type: RatchetType): Promise<RatchetKey> {
    const r = await this.ratchet(leaf, type);
    const generation = r.generation;
    const k = await this.keyAt(r);
    await this.advance(r);
    return { ...k, generation };
  }

  /** The key of `generation` (receiving): consumed, never handed out twice. */
  async consume(leaf: number, type: RatchetType, generation: number): Promise<RatchetKey> {
    const r = await this.ratchet(leaf, type);
    if (generation < r.generation) {
      const k = r.skipped.get(generation);
      if (k === undefined) fail("generation-consumed", `generation ${generation} already used or dropped`);
      r.skipped.delete(generation);
      return { ...k, generation };
    }
    if (generation - r.generation > MAX_SKIP)
      fail("generation-too-far", `generation ${generation} too far ahead`);
    while (r.generation < generation) {
      r.skipped.set(r.generation, await this.keyAt(r));
      await this.advance(r);
    }
    const k = await this.keyAt(r);
    await this.advance(r);
    return { ...k, generation };
  }
}
