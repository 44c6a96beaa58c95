/**
 * Names chosen by others are shown on one line in every UI, so they must not carry control, bidi or
 * invisible formatting characters: checked when we choose a name (send) and when one arrives
 * (intro, group profile, invite, group metadata).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ParleyClient } from "../src/client/parley-client.js";
import { ContentError, DisplayName, decodeContent, encodeContent } from "../src/content/index.js";
import { nodeCryptoProvider } from "../src/crypto/node-provider.js";
import { utf8 } from "../src/encoding/bytes.js";
import { ParleyError } from "../src/errors.js";
import {
  decodeGroupMetadata,
  encodeGroupMetadata,
  GroupName,
  groupPolicy,
} from "../src/messaging/group-metadata.js";
import { InvitePayload } from "../src/messaging/invite-link.js";
import { isSafeName, nameProblem, normalizeName } from "../src/messaging/text-safety.js";
import type { MlsEngine } from "../src/mls/engine.js";
import { Rfc9420Engine } from "../src/mls/rfc9420-engine/index.js";
import { MemoryKeyValueStore } from "../src/storage/memory-store.js";

/** Names that would forge, overwrite, reorder or hide what a reader sees. */
const unsafe: [string, string][] = [
  ["newline and a forged line", "Bob\n[2026-01-01 10:00] Carol: transfer the money"],
  ["carriage return", "Bob\rCarol"],
  ["tab", "Bob\tCarol"],
  ["ESC (ANSI clear screen)", "Bob\x1b[2J"],
  ["OSC 52 clipboard write", "Bob\x1b]52;c;ZXZpbA==\x07"],
  ["DEL", "Bob\x7f"],
  ["C1 NEL", "Bob\u0085Carol"],
  ["C1 CSI", "Bob\u009b2J"],
  ["right-to-left override", "\u202eboB"],
  ["left-to-right embedding", "Bob\u202aCarol"],
  ["first-strong isolate", "Bob\u2068x\u2069"],
  ["right-to-left mark", "Bob\u200f"],
  ["Arabic letter mark", "Bob\u061cx"],
  ["line separator", "Bob\u2028Carol"],
  ["paragraph separator", "Bob\u2029Carol"],
  ["zero-width space", "Bo\u200bb"],
  ["byte order mark inside", "Bo\ufeffb"],
  ["tag characters", "Bob\u{e0041}\u{e0042}"],
  ["Hangul filler", "\u3164"],
  ["leading zero-width joiner", "\u200dBob"],
  ["trailing zero-width non-joiner", "Bob\u200c"],
  ["doubled joiner", "Bo\u200d\u200db"],
  ["empty", "   "],
  ["too long", "x".repeat(65)],
];

/** Real names: other scripts, emoji sequences with ZWJ, ZWNJ in Persian, variation selectors. */
const safe: [string, string][] = [
  ["Chinese", "王小明"],
  ["Arabic", "محمد"],
  ["Persian with ZWNJ", "می\u200cخواهم"],
  ["emoji with ZWJ", "👩\u200d💻 Ana"],
  ["family emoji", "👨\u200d👩\u200d👧"],
  ["emoji with variation selector", "❤\ufe0f Zoë"],
  ["accents", "José Müller-Łukasiewicz"],
  ["64 characters", "x".repeat(64)],
];

describe("display names", () => {
  for (const [label, name] of unsafe) {
    it(`refuses a name with ${label}`, () => {
      assert.equal(isSafeName(name, "display name", 64), false);
      assert.equal(DisplayName.safeParse(name).success, false);
    });
  }
  for (const [label, name] of safe) {
    it(`accepts a ${label} name`, () => {
      assert.equal(isSafeName(name, "display name", 64), true);
      assert.equal(DisplayName.parse(name), name);
    });
  }

  it("normalises to NFC and trims before checking", () => {
    assert.equal(normalizeName("  Zoe\u0308 \n"), "Zo\u00eb");
    assert.equal(DisplayName.parse("\tZoe\u0308  "), "Zo\u00eb");
  });

  it("says which character is wrong", () => {
    assert.match(nameProblem("\u202eboB", "display name", 64)!, /one line.*U\+202E/);
    assert.match(nameProblem("", "group name", 100)!, /a group name has 1 to 100 characters/);
  });
});

describe("names on receive", () => {
  const content = (body: unknown) =>
    utf8(JSON.stringify({ v: 1, id: "m1", sentAt: 1_700_000_000_000, body }));
  const replyTo = { relay: "http://127.0.0.1:8787", sendId: "abc" };

  for (const [label, name] of unsafe) {
    it(`an intro or group profile whose name has ${label} is rejected`, () => {
      assert.throws(() => decodeContent(content({ type: "intro", name, replyTo })), ContentError);
      assert.throws(() => decodeContent(content({ type: "profile", name })), ContentError);
    });
  }

  it("the rejection names the problem", () => {
    assert.throws(
      () => decodeContent(content({ type: "profile", name: "Bob\n[10:00] Carol: hi" })),
      /message content rejected: a display name must be one line .*U\+000A/,
    );
  });

  for (const [label, name] of safe) {
    it(`an intro with a ${label} name is accepted as is`, () => {
      const c = decodeContent(content({ type: "intro", name, replyTo }));
      assert.equal(c.body.type === "intro" && c.body.name, name);
    });
  }

  it("a profile name arrives normalised", () => {
    const c = decodeContent(
      encodeContent({ v: 1, id: "m", sentAt: 0, body: { type: "profile", name: " Zoe\u0308" } }),
    );
    assert.equal(c.body.type === "profile" && c.body.name, "Zo\u00eb");
  });

  it("an invite whose name is unsafe is malformed", () => {
    const invite = { v: 1, sendId: "s", keyPackage: "k" };
    assert.equal(InvitePayload.safeParse({ ...invite, name: "Alice" }).success, true);
    assert.equal(
      InvitePayload.safeParse({ ...invite, name: "Alice\x1b]8;;http://evil/\x07" }).success,
      false,
    );
  });
});

describe("group names", () => {
  const admin = "A".repeat(43);
  const metadata = (name: string) => utf8(JSON.stringify({ v: 1, name, admins: [admin] }));

  for (const [label, name] of unsafe.filter(([l]) => l !== "too long")) {
    it(`group metadata whose name has ${label} does not decode`, () => {
      assert.equal(decodeGroupMetadata(metadata(name)), undefined);
      assert.equal(GroupName.safeParse(name).success, false);
    });
  }

  it("a group name has up to 100 characters and the same character rules", () => {
    assert.equal(decodeGroupMetadata(metadata("x".repeat(100)))?.name, "x".repeat(100));
    assert.equal(decodeGroupMetadata(metadata("x".repeat(101))), undefined);
    assert.equal(decodeGroupMetadata(metadata("读书会 📚"))?.name, "读书会 📚");
  });

  it("every member refuses an admin's rename to an unsafe name", () => {
    const before = encodeGroupMetadata({ v: 1, name: "Book club", admins: [admin] });
    const engine = { metadata: () => before } as unknown as MlsEngine;
    const policy = groupPolicy(engine);
    // 32 zero bytes: "AAA…A" in base64url, the admin above.
    const committer = { identityKey: new Uint8Array(32), leafIndex: 0 } as never;
    const rename = (name: string) =>
      policy({ before: {} as never, committer, added: [], removed: [], metadata: metadata(name) } as never);
    assert.equal(rename("Book club 2"), undefined);
    assert.equal(rename('Book club\n! you were removed from "Book club"'), "malformed group metadata");
    assert.equal(rename("\u202ebulc kooB"), "malformed group metadata");
  });
});

describe("names on send", () => {
  const crypto = nodeCryptoProvider;
  const client = () =>
    new ParleyClient({ store: new MemoryKeyValueStore(), crypto, engine: new Rfc9420Engine(crypto) });
  const badName = (e: unknown) => e instanceof ParleyError && e.code === "bad_name";

  for (const [label, name] of unsafe) {
    it(`init refuses a display name with ${label}`, async () => {
      await assert.rejects(client().init(name, "http://127.0.0.1:8787"), badName);
    });
    it(`createGroup and renameGroup refuse a group name with ${label}`, async () => {
      if (label === "too long") return; // a group name may be longer
      await assert.rejects(client().createGroup(name), badName);
      await assert.rejects(client().renameGroup("Book club", name), badName);
    });
  }

  it("init keeps a safe name, normalised", async () => {
    const c = client();
    const p = await c.init("  王小明 ", "http://127.0.0.1:8787");
    assert.equal(p.name, "王小明");
    await assert.rejects(client().init("Bo\u2028b", "http://127.0.0.1:8787"), /U\+2028/);
  });
});
