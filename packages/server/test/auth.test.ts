import assert from "node:assert/strict";
import { sign } from "node:crypto";
import { describe, it } from "node:test";
import { COMMAND_CLOCK_SKEW_MS, fromHex, toBase64Url, utf8 } from "@parley/protocol";
import { authorize } from "../src/auth/authorize.js";
import { isUsablePublicKey, verifyEd25519 } from "../src/auth/ed25519.js";
import { SqliteStore } from "../src/index.js";
import { Problem } from "../src/problem.js";
import { newKey, nonce } from "./helpers.js";

const newKeyHex = () => Buffer.from(newKey().publicKey, "base64url").toString("hex");

describe("Ed25519 verification", () => {
  it("verifies RFC 8032 test vector 1 and rejects any change", () => {
    const key = fromHex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
    const sig = fromHex(
      "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065" +
        "224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    );
    assert.equal(verifyEd25519(key, new Uint8Array(0), sig), true);
    assert.equal(verifyEd25519(key, new Uint8Array([0]), sig), false);
    const flipped = sig.slice();
    flipped[10]! ^= 1;
    assert.equal(verifyEd25519(key, new Uint8Array(0), flipped), false);
    assert.equal(verifyEd25519(key.subarray(1), new Uint8Array(0), sig), false, "short key");
    assert.equal(verifyEd25519(key, new Uint8Array(0), sig.subarray(1)), false, "short signature");
  });
});

describe("usable Ed25519 public keys", () => {
  // The eight points of small order, canonically encoded (the 8-torsion subgroup).
  const smallOrder = [
    "0100000000000000000000000000000000000000000000000000000000000000",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0000000000000000000000000000000000000000000000000000000000000080",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
  ];

  it("refuses every small-order point", () => {
    for (const hex of smallOrder) assert.equal(isUsablePublicKey(fromHex(hex)), false, hex);
  });

  it("refuses non-canonical encodings and points off the curve", () => {
    const refused = [
      "0100000000000000000000000000000000000000000000000000000000000080", // x = 0 with the sign bit
      "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // y = p
      "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // y = p + 1
      "0200000000000000000000000000000000000000000000000000000000000000", // y = 2: no x on the curve
    ];
    for (const hex of refused) assert.equal(isUsablePublicKey(fromHex(hex)), false, hex);
    assert.equal(isUsablePublicKey(new Uint8Array(31)), false, "31 bytes");
  });

  it("accepts real keys and a key of mixed order (a real point plus a small-order one)", () => {
    // RFC 8032 test vector 1; [12345]B + a point of order 8.
    assert.equal(
      isUsablePublicKey(fromHex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")),
      true,
    );
    assert.equal(
      isUsablePublicKey(fromHex("cdbc161be64c4302f56443ff29ccf36a2075be1a1fa67ff126b56315f5681c38")),
      true,
    );
    for (let i = 0; i < 50; i++) assert.equal(isUsablePublicKey(fromHex(newKeyHex())), true);
  });
});

describe("authorize", () => {
  const NOW = 1_800_000_000_000;

  async function setup(t: { after: (fn: () => Promise<void>) => void }) {
    const store = SqliteStore.open(":memory:");
    t.after(() => store.close());
    const key = newKey();
    const request = (ts: number, n = nonce(), signer = key) => {
      const signed = utf8(`test|${ts}|${n}`);
      return {
        scope: "scope",
        publicKey: key.publicKey,
        signed,
        ts,
        nonce: n,
        sig: toBase64Url(sign(null, signed, signer.privateKey)),
      };
    };
    const code = (p: Promise<unknown>) =>
      p.then(
        () => "ok",
        (e: unknown) => (e instanceof Problem ? e.code : `unexpected ${String(e)}`),
      );
    return { store, key, request, code };
  }

  it("accepts timestamps within the skew window, inclusive, and nothing beyond", async (t) => {
    const { store, request, code } = await setup(t);
    assert.equal(await code(authorize(store, request(NOW - COMMAND_CLOCK_SKEW_MS), NOW, NOW + 1)), "ok");
    assert.equal(await code(authorize(store, request(NOW + COMMAND_CLOCK_SKEW_MS), NOW, NOW + 1)), "ok");
    assert.equal(
      await code(authorize(store, request(NOW - COMMAND_CLOCK_SKEW_MS - 1), NOW, NOW + 1)),
      "clock_skew",
    );
    assert.equal(
      await code(authorize(store, request(NOW + COMMAND_CLOCK_SKEW_MS + 1), NOW, NOW + 1)),
      "clock_skew",
    );
  });

  it("records the nonce only once the signature holds", async (t) => {
    const { store, request, code } = await setup(t);
    const n = nonce();
    assert.equal(await code(authorize(store, request(NOW, n, newKey()), NOW, NOW + 1)), "bad_signature");
    assert.equal(
      await code(authorize(store, request(NOW, n), NOW, NOW + 1)),
      "ok",
      "a forged try did not burn it",
    );
    assert.equal(await code(authorize(store, request(NOW, n), NOW, NOW + 1)), "replay");
  });

  it("refuses a non-canonical signature encoding as a bad signature", async (t) => {
    const { store, request, code } = await setup(t);
    const r = request(NOW);
    // The last base64url character of 64 bytes carries 4 unused bits; setting one is non-canonical.
    const last = r.sig.at(-1)!;
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const bent = r.sig.slice(0, -1) + alphabet[alphabet.indexOf(last) | 1];
    assert.equal(await code(authorize(store, { ...r, sig: bent }, NOW, NOW + 1)), "bad_signature");
  });
});
