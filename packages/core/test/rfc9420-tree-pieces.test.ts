/**
 * The current ratchet tree stored as pieces (rfc9420/tree-pieces.ts): a state loaded from a store
 * saves the nodes a commit changed, not the whole tree; the pieces chain by tree hash, so a missing,
 * stale or foreign piece is refused at load; the chain starts over with a whole tree once its
 * changes outgrow half of it; and the profile store writes only the pieces it does not hold, and
 * forgets them all with the group.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { nodeCryptoProvider as crypto } from "../src/crypto/node-provider.js";
import { MlsProcessingError, type SerializedGroupState } from "../src/mls/engine.js";
import { readPiece } from "../src/mls/rfc9420/tree-pieces.js";
import { unwrap } from "../src/mls/rfc9420-engine/state.js";
import { MemoryKeyValueStore } from "../src/storage/memory-store.js";
import { ProfileRepository } from "../src/store/repository.js";
import { engine, engineGroup, leafKeys, storedForm } from "./helpers/engine-group.js";

const exported = (s: Parameters<typeof engine.exportSecret>[0]) =>
  engine.exportSecret(s, "x", new Uint8Array(0), 16);

describe("ratchet tree stored as pieces", () => {
  it("a commit on a loaded state adds one small piece of changes; the chain loads to the same group", async () => {
    const { alice, others } = await engineGroup(64, 0);
    const saved = engine.serialize(alice);
    assert.equal(saved.tree?.pieces.length, 1, "a new state: one whole tree");
    assert.equal(saved.tree?.held, 0);
    assert.equal(readPiece(saved.tree!.pieces[0]!).whole, true);

    const loaded = engine.deserialize(storedForm(saved));
    const c = await engine.commit(loaded, {});
    const after = engine.serialize(c.state);
    assert.equal(after.tree?.held, 1, "the whole tree is the store's already");
    assert.equal(after.tree?.pieces.length, 2);
    assert.equal(after.tree?.pieces[0], saved.tree?.pieces[0], "the same bytes, not encoded again");
    const whole = after.tree!.pieces[0]!.length;
    const changes = after.tree!.pieces[1]!.length;
    assert.equal(readPiece(after.tree!.pieces[1]!).whole, false);
    assert.ok(changes * 10 < whole, `an update's changes ${changes} B against a tree of ${whole} B`);

    // Loaded from the chain: the same members and secrets as the state it was saved from, and it
    // goes on (Bob processes the same commit and agrees).
    const reloaded = engine.deserialize(storedForm(after));
    assert.deepEqual(leafKeys(reloaded), leafKeys(c.state));
    const bob = await engine.process(others[0]!, c.commits[0]!);
    assert.equal(bob.kind, "commit");
    assert.deepEqual(await exported(reloaded), await exported(bob.state));
    const next = await engine.commit(reloaded, {});
    const bob2 = await engine.process(bob.state, next.commits[0]!);
    assert.deepEqual(await exported(next.state), await exported(bob2.state));

    // Once the save is known to have landed, the next one adds to it (not to the load's tree).
    engine.stored(c.state, after);
    const c2 = await engine.commit(c.state, {});
    const after2 = engine.serialize(c2.state);
    assert.equal(after2.tree?.held, 2);
    assert.equal(after2.tree?.pieces.length, 3);
    const third = engine.deserialize(storedForm(after2));
    assert.deepEqual(await exported(third), await exported(c2.state));
  });

  it("a piece missing, stale or of another group is refused at load", async () => {
    const { alice } = await engineGroup(32, 0);
    const first = engine.serialize(alice);
    const c1 = await engine.commit(engine.deserialize(storedForm(first)), {});
    engine.stored(c1.state, engine.serialize(c1.state));
    const c2 = await engine.commit(c1.state, {});
    const good = storedForm(engine.serialize(c2.state));
    assert.equal(good.tree?.pieces.length, 3);
    const pieces = good.tree!.pieces;
    const withPieces = (p: Uint8Array[]): SerializedGroupState => ({
      ...good,
      tree: { pieces: p, held: p.length },
    });
    assert.doesNotThrow(() => engine.deserialize(withPieces(pieces)));
    // Extra pieces after the chain (a stale write) are not part of it.
    assert.doesNotThrow(() => engine.deserialize(withPieces([...pieces, pieces[1]!])));
    const refusals: [string, Uint8Array[]][] = [
      ["the last piece missing", pieces.slice(0, 2)],
      ["a middle piece missing", [pieces[0]!, pieces[2]!, pieces[2]!]],
      ["two pieces swapped", [pieces[0]!, pieces[2]!, pieces[1]!]],
      ["no whole tree first", [pieces[1]!, pieces[1]!, pieces[2]!]],
    ];
    const other = (await engineGroup(4, 0)).alice;
    refusals.push([
      "another group's whole tree",
      [engine.serialize(other).tree!.pieces[0]!, pieces[1]!, pieces[2]!],
    ]);
    for (const [what, p] of refusals) {
      assert.throws(() => engine.deserialize(withPieces(p)), MlsProcessingError, what);
    }
    // A piece's nodes are read when the tree is first used (lazy, like a stored tree's): refused then.
    const truncated = pieces[2]!.slice(0, pieces[2]!.length - 3);
    const damaged = engine.deserialize(withPieces([pieces[0]!, pieces[1]!, truncated]));
    assert.throws(() => engine.members(damaged), /malformed/, "a truncated piece");
    assert.throws(
      () => engine.deserialize({ ...good, tree: undefined }),
      MlsProcessingError,
      "no pieces given",
    );
  });

  it("the chain starts over with a whole tree once its changes outgrow half of it", async () => {
    const { alice } = await engineGroup(16, 0);
    let state = engine.deserialize(storedForm(engine.serialize(alice)));
    const lengths: number[] = [];
    let restarted = false;
    for (let i = 0; i < 40 && !restarted; i++) {
      const c = await engine.commit(state, {});
      const saved = engine.serialize(c.state);
      engine.stored(c.state, saved);
      lengths.push(saved.tree!.pieces.length);
      if (saved.tree!.held === 0) {
        restarted = true;
        assert.equal(saved.tree!.pieces.length, 1);
        assert.equal(readPiece(saved.tree!.pieces[0]!).whole, true);
      }
      state = c.state;
    }
    assert.ok(restarted, `never started over: chain lengths ${lengths.join(",")}`);
    assert.ok(lengths.length > 2, "a small tree's first updates are still added as changes");
  });

  it("the profile store writes only the pieces it does not hold, and forgets every piece with the group", async () => {
    const kv = new MemoryKeyValueStore();
    const repo = new ProfileRepository(kv);
    const { alice } = await engineGroup(32, 0);
    const groupId = "g1";
    const pieceKeys = async () => (await kv.list(`mls/${groupId}/t/`)).map(([k]) => k);
    const save = async (s: Parameters<typeof engine.serialize>[0]) => {
      const serialized = engine.serialize(s);
      const written: string[] = [];
      const b = repo.batch();
      repo.putGroupState(b, groupId, serialized);
      for (const w of b.writes) if (w.key.startsWith(`mls/${groupId}/t/`)) written.push(w.key);
      await repo.commit(b);
      engine.stored(s, serialized);
      return written;
    };
    assert.deepEqual(await save(alice), [`mls/${groupId}/t/000000`]);
    const loaded = engine.deserialize((await repo.groupState(groupId))!);
    const c = await engine.commit(loaded, {});
    assert.deepEqual(await save(c.state), [`mls/${groupId}/t/000001`], "only the changes are written");
    const sent = await engine.encrypt(c.state, new Uint8Array([1, 2, 3]));
    assert.deepEqual(await save(sent.state), [], "a message writes no tree");
    assert.deepEqual(await pieceKeys(), [`mls/${groupId}/t/000000`, `mls/${groupId}/t/000001`]);
    const again = engine.deserialize((await repo.groupState(groupId))!);
    assert.deepEqual(await exported(again), await exported(sent.state));
    assert.equal(unwrap(again, true).stored?.pieces.length, 2);

    const b = repo.batch();
    await repo.deleteGroupState(b, groupId);
    await repo.commit(b);
    assert.deepEqual(await pieceKeys(), []);
    assert.equal(await repo.groupState(groupId), undefined);
    void crypto;
  });
});
