import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { deliveryLabel, groupDigits, initials, inviteFromLocation } from "../src/format.js";
import { argon2idKdf } from "../src/kdf.js";

describe("web helpers", () => {
  it("groups safety-number digits in fives", () => {
    assert.equal(groupDigits("123451234512345"), "12345 12345 12345");
    assert.equal(groupDigits("1".repeat(60)).split(" ").length, 12);
  });

  it("finds an invite link in the page address, and nothing else", () => {
    const id = "A".repeat(22);
    const key = "b".repeat(43);
    assert.equal(
      inviteFromLocation(`http://127.0.0.1:8787/#/invite/${id}/${key}`),
      `http://127.0.0.1:8787/#/invite/${id}/${key}`,
    );
    assert.equal(inviteFromLocation("http://127.0.0.1:8787/"), null);
    assert.equal(inviteFromLocation(`http://127.0.0.1:8787/#/invite/${id}/short`), null);
    assert.equal(inviteFromLocation(`http://127.0.0.1:8787/#/invite/${id}/${key}<script>`), null);
  });

  it("labels delivery states and makes initials", () => {
    assert.equal(deliveryLabel("sending"), "Sending…");
    assert.equal(deliveryLabel("delivered"), "Delivered");
    assert.equal(deliveryLabel("received"), "");
    assert.equal(initials("ada lovelace"), "AL");
    assert.equal(initials("  "), "?");
  });
});

describe("argon2id KDF (hash-wasm)", () => {
  it("derives a 32-byte key that depends on passphrase and salt, and normalises Unicode", async () => {
    const params = { memoryKiB: 1024, iterations: 1, parallelism: 1 };
    const salt = new Uint8Array(16).fill(7);
    const a = await argon2idKdf.derive("passphrase", salt, params);
    assert.equal(a.length, 32);
    assert.deepEqual(await argon2idKdf.derive("passphrase", salt, params), a);
    assert.notDeepEqual(await argon2idKdf.derive("passphrase!", salt, params), a);
    assert.notDeepEqual(await argon2idKdf.derive("passphrase", new Uint8Array(16).fill(8), params), a);
    // "é" precomposed and decomposed are the same passphrase.
    assert.deepEqual(
      await argon2idKdf.derive("caf\u00e9", salt, params),
      await argon2idKdf.derive("cafe\u0301", salt, params),
    );
  });

  it("reproduces the Argon2 reference implementation's test vector", async () => {
    // phc-winner-argon2 src/test.c: Argon2id v=19, m=256 KiB, t=2, p=1, "password", "somesalt".
    const key = await argon2idKdf.derive("password", new TextEncoder().encode("somesalt"), {
      memoryKiB: 256,
      iterations: 2,
      parallelism: 1,
    });
    assert.equal(
      Buffer.from(key).toString("hex"),
      "9dfeb910e80bad0311fee20f9c0e2b12c17987b4cac90c2ef54d5b3021c68bfe",
    );
  });
});
