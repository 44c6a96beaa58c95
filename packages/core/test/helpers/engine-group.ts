/**
 * A group on our own engine for the rfc9420-* tests: `size` people, all but the last `outside` of
 * them in the group (added in one commit), the others' KeyPackages ready for a commit to add them.
 */
import { nodeCryptoProvider as crypto } from "../../src/crypto/node-provider.js";
import { createIdentity } from "../../src/identity/identity-key.js";
import type { GroupState, SerializedGroupState } from "../../src/mls/engine.js";
import { Rfc9420Engine } from "../../src/mls/rfc9420-engine/index.js";
import { unwrap } from "../../src/mls/rfc9420-engine/state.js";

export const engine = new Rfc9420Engine(crypto);
export const treeOf = (s: GroupState) => unwrap(s, true).g.tree;
export const leafKeys = (s: GroupState) =>
  engine.members(s).map((m) => Buffer.from(m.deviceKey).toString("hex"));

export async function engineGroup(size: number, outside: number) {
  const people = await Promise.all(Array.from({ length: size }, () => createIdentity(crypto)));
  const kps = await Promise.all(people.map((p) => engine.createKeyPackage(p.device)));
  const created = await engine.createGroup(crypto.randomBytes(16), people[0]!.device, kps[0]!);
  const inside = kps.slice(1, size - outside);
  const r = await engine.commit(created, { add: inside.map((k) => k.publicMessage) });
  const others = await Promise.all(inside.map((k) => engine.joinFromWelcome(r.welcome!, k)));
  return { alice: r.state, others, outside: kps.slice(size - outside), people };
}

/**
 * A serialized state as a store hands it back at load: every tree piece held (serialize says which
 * pieces the store does not hold yet; a state loaded from a store saves only its changes since).
 */
export const storedForm = (s: SerializedGroupState): SerializedGroupState =>
  s.tree ? { ...s, tree: { pieces: s.tree.pieces, held: s.tree.pieces.length } } : s;
