/**
 * Engine-level differential test: one group whose members run TsMlsEngine or Rfc9420Engine, through
 * the MlsEngine seam only, on both crypto providers. Adds with Welcomes both ways, updates, removals,
 * metadata changes and messages both ways; after every step every member is at the same epoch and
 * derives the same exporter secret (the seam's view of the epoch authenticator: both come from the
 * epoch secret).
 *
 * What a TsMlsEngine member commits is limited to what RFC 9420 allows and ts-mls can build: adds and
 * key updates. Its removals (a path-less single-Remove commit, then a path-only one) and metadata
 * changes (a path-less GroupContextExtensions commit) break RFC 9420 §12.4, and Rfc9420Engine refuses
 * them (last test) — a mixed group has its removals and renames made by Rfc9420Engine members.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { nobleCryptoProvider } from "../src/crypto/noble-provider.js";
import { nodeCryptoProvider } from "../src/crypto/node-provider.js";
import type { CryptoProvider } from "../src/crypto/provider.js";
import { equalBytes, utf8 } from "../src/encoding/bytes.js";
import { createIdentity } from "../src/identity/identity-key.js";
import type { GroupChanges, GroupState, MlsEngine } from "../src/mls/engine.js";
import { Rfc9420Engine } from "../src/mls/rfc9420-engine/index.js";
import { TsMlsEngine } from "../src/mls/ts-mls-engine.js";

type Kind = "ts" | "ours";

interface M {
  name: string;
  kind: Kind;
  engine: MlsEngine;
  state: GroupState;
}

const EXPORT_LABEL = "parley differential";

class MixedGroup {
  members: M[] = [];
  private n = 0;
  constructor(
    private readonly crypto: CryptoProvider,
    private readonly engines: Record<Kind, MlsEngine>,
  ) {}

  async found(kind: Kind): Promise<void> {
    const who = await createIdentity(this.crypto);
    const engine = this.engines[kind];
    const kp = await engine.createKeyPackage(who.device);
    const state = await engine.createGroup(this.crypto.randomBytes(16), who.device, kp, utf8("start"));
    this.members.push({ name: `m${this.n++}`, kind, engine, state });
  }

  /** `by` commits; everyone else processes every commit; joiners join; then the check. */
  async commit(by: M, changes: { add?: Kind[]; remove?: M[]; metadata?: string }): Promise<void> {
    const joiners = await Promise.all(
      (changes.add ?? []).map(async (kind) => {
        const who = await createIdentity(this.crypto);
        const engine = this.engines[kind];
        return { kind, engine, kp: await engine.createKeyPackage(who.device) };
      }),
    );
    const gc: GroupChanges = {
      ...(joiners.length ? { add: joiners.map((j) => j.kp.publicMessage) } : {}),
      ...(changes.remove ? { remove: changes.remove.map((m) => m.engine.ownLeafIndex(m.state)) } : {}),
      ...(changes.metadata !== undefined ? { metadata: utf8(changes.metadata) } : {}),
    };
    const out = await by.engine.commit(by.state, gc);
    by.state = out.state;
    const removed = new Set(changes.remove ?? []);
    for (const m of this.members) {
      if (m === by) continue;
      for (const commit of out.commits) {
        const r = await m.engine.process(m.state, commit);
        if (removed.has(m)) {
          assert.equal(r.kind, "removed", `${m.name} (${m.kind}) is told it was removed`);
          break;
        }
        assert.equal(r.kind, "commit", `${m.name} (${m.kind}) processes ${by.name}'s commit`);
        if (r.kind === "commit" && changes.metadata !== undefined && commit === out.commits.at(-1))
          assert.deepEqual(m.engine.metadata(r.state), utf8(changes.metadata));
        m.state = r.state;
      }
    }
    this.members = this.members.filter((m) => !removed.has(m));
    for (const j of joiners) {
      assert.ok(out.welcome, "a Welcome for the joiners");
      const state = await j.engine.joinFromWelcome(out.welcome, j.kp);
      this.members.push({ name: `m${this.n++}`, kind: j.kind, engine: j.engine, state });
    }
    await this.check(`after ${by.name}'s commit`);
  }

  async message(from: M, text: string): Promise<void> {
    const sent = await from.engine.encrypt(from.state, utf8(text));
    from.state = sent.state;
    for (const m of this.members) {
      if (m === from) continue;
      const r = await m.engine.process(m.state, sent.message);
      assert.equal(r.kind, "application", `${m.name} (${m.kind}) reads ${from.name} (${from.kind})`);
      if (r.kind !== "application") return;
      assert.deepEqual(r.plaintext, utf8(text));
      assert.equal(r.sender.leafIndex, from.engine.ownLeafIndex(from.state));
      m.state = r.state;
    }
  }

  async check(when: string): Promise<void> {
    const first = this.members[0]!;
    const ref = await first.engine.exportSecret(first.state, EXPORT_LABEL, new Uint8Array(0), 32);
    for (const m of this.members) {
      assert.equal(m.state.epoch, first.state.epoch, `${when}: ${m.name} epoch`);
      const mine = await m.engine.exportSecret(m.state, EXPORT_LABEL, new Uint8Array(0), 32);
      assert.ok(equalBytes(mine, ref), `${when}: ${m.name} (${m.kind}) exporter secret`);
      assert.equal(m.engine.members(m.state).length, this.members.length, `${when}: ${m.name} members`);
    }
  }

  of(kind: Kind, except?: M): M {
    const m = this.members.find((x) => x.kind === kind && x !== except);
    assert.ok(m, `a ${kind} member`);
    return m;
  }
}

for (const crypto of [nodeCryptoProvider, nobleCryptoProvider]) {
  describe(`seam differential: TsMlsEngine and Rfc9420Engine in one group (${crypto.name} provider)`, () => {
    const engines = { ts: new TsMlsEngine(crypto), ours: new Rfc9420Engine(crypto) };

    it("adds both ways, a rename and updates by both engines, messages both ways", async () => {
      const g = new MixedGroup(crypto, engines);
      await g.found("ours");
      await g.commit(g.members[0]!, { add: ["ours", "ts"] });
      for (const m of g.members) await g.message(m, `hello from ${m.name}`);
      await g.commit(g.of("ours"), { add: ["ts"], metadata: "renamed" });
      await g.commit(g.of("ts"), {});
      await g.commit(g.of("ts"), { add: ["ours"] });
      await g.commit(g.of("ours"), {});
      for (const m of g.members) await g.message(m, `bye from ${m.name}`);
    });

    for (const founder of ["ts", "ours"] as const) {
      // Fails today: a TsMlsEngine member sibling of the committer's copath (or removed by the commit)
      // cannot process an Rfc9420Engine commit with a path — ts-mls rc.10 throws "No overlap between
      // provided private keys and update path" (see the report in docs/protocol.md).
      const todo =
        "ts-mls rc.10 cannot process some RFC 9420 paths (No overlap between private keys and update path)";
      it(`founded by ${founder}: adds, updates, removals, renames, messages both ways`, {
        todo,
      }, async () => {
        const g = new MixedGroup(crypto, engines);
        await g.found(founder);
        await g.commit(g.members[0]!, { add: ["ts", "ours"] });
        for (const m of g.members) await g.message(m, `hello from ${m.name}`);
        // TsMlsEngine: adds (no path; RFC 9420 allows that for Add-only commits) and a key update.
        await g.commit(g.of("ts"), { add: ["ours", "ts"] });
        await g.commit(g.of("ts"), {});
        // Rfc9420Engine: a removal, an add and a rename in one commit with a path.
        const ours = g.of("ours");
        await g.commit(ours, { remove: [g.of("ts", g.members[0])], add: ["ours"], metadata: "renamed" });
        await g.commit(g.of("ours"), {});
        await g.commit(g.of("ts"), {});
        // Two removals (one of each engine) by ours; then a ts-mls update and an add by ts-mls.
        const a = g.of("ours");
        await g.commit(a, { remove: [g.of("ours", a), g.of("ts")] });
        await g.commit(g.of("ts"), {});
        // After a removal, ts-mls rc.10 may refuse valid trees (unmerged leaves, see the RFC-level
        // differential test): joiners from here on run our engine.
        await g.commit(g.of("ts"), { add: ["ours"] });
        for (const m of g.members) await g.message(m, `bye from ${m.name}`);
      });
    }

    it("a late message from the previous epoch opens on either engine", async () => {
      const g = new MixedGroup(crypto, engines);
      await g.found("ours");
      await g.commit(g.members[0]!, { add: ["ts", "ours"] });
      const [a, b, c] = g.members as [M, M, M];
      const late = await b.engine.encrypt(b.state, utf8("late"));
      b.state = late.state;
      const up = await a.engine.commit(a.state, {});
      a.state = up.state;
      for (const m of [b, c]) {
        const r = await m.engine.process(m.state, up.commits[0]!);
        m.state = r.state;
      }
      for (const m of [a, c]) {
        const r = await m.engine.process(m.state, late.message);
        assert.equal(r.kind, "application");
        if (r.kind === "application") assert.equal(r.epoch, 1n);
        m.state = r.state;
      }
    });
  });
}

describe("seam differential: TsMlsEngine commits outside RFC 9420 §12.4", () => {
  for (const change of ["single removal", "metadata change"] as const) {
    it(`a TsMlsEngine ${change} is refused by Rfc9420Engine members, state unchanged`, async () => {
      const crypto = nodeCryptoProvider;
      const engines = { ts: new TsMlsEngine(crypto), ours: new Rfc9420Engine(crypto) };
      const g = new MixedGroup(crypto, engines);
      await g.found("ts");
      await g.commit(g.members[0]!, { add: ["ours", "ts"] });
      const [t, o, victim] = g.members as [M, M, M];
      const out = await t.engine.commit(
        t.state,
        change === "single removal"
          ? { remove: [victim.engine.ownLeafIndex(victim.state)] }
          : { metadata: utf8("x") },
      );
      const before = o.engine.serialize(o.state);
      await assert.rejects(o.engine.process(o.state, out.commits[0]!), /path-required/);
      assert.deepEqual(o.engine.serialize(o.state), before);
    });
  }
});
