import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import { getCiphersuiteImpl } from "ts-mls";
import { nobleCryptoProvider, nobleX25519Hpke } from "../src/crypto/noble-provider.js";
import {
  nodeCryptoProvider,
  nodeX25519Hpke,
  x25519HpkeSealWithEphemeral,
} from "../src/crypto/node-provider.js";
import { concatBytes, fromHex, utf8 } from "../src/encoding/bytes.js";

const SUITE = "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519" as const;

// RFC 8032 §7.1, TEST 1 and TEST 3.
const RFC8032 = [
  {
    secret: "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
    public: "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
    message: "",
    signature:
      "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
  },
  {
    secret: "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
    public: "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
    message: "af82",
    signature:
      "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
  },
];

describe("nodeCryptoProvider", () => {
  it("a signing key buffer zeroed since it was last used does not sign with the key it held", async () => {
    const p = nodeCryptoProvider;
    const { secretKey, publicKey } = await p.ed25519Generate();
    const m = utf8("one message");
    assert.equal(await p.ed25519Verify(publicKey, m, await p.ed25519Sign(secretKey, m)), true);
    // Signed again with the same buffer: the key it holds (found by the buffer, not its hash).
    assert.equal(await p.ed25519Verify(publicKey, m, await p.ed25519Sign(secretKey, m)), true);
    secretKey.fill(0);
    const after = await p.ed25519Sign(secretKey, m);
    assert.equal(await p.ed25519Verify(publicKey, m, after), false, "signed with the erased key");
  });

  it("Ed25519 matches RFC 8032 and the noble provider byte for byte", async () => {
    for (const v of RFC8032) {
      const sig = await nodeCryptoProvider.ed25519Sign(fromHex(v.secret), fromHex(v.message));
      assert.deepEqual(sig, fromHex(v.signature));
      assert.ok(await nodeCryptoProvider.ed25519Verify(fromHex(v.public), fromHex(v.message), sig));
    }
    for (let i = 0; i < 5; i++) {
      const message = nodeCryptoProvider.randomBytes(100 + i);
      const fromNode = await nodeCryptoProvider.ed25519Generate();
      const fromNoble = await nobleCryptoProvider.ed25519Generate();
      for (const kp of [fromNode, fromNoble]) {
        assert.equal(kp.secretKey.length, 32);
        const a = await nodeCryptoProvider.ed25519Sign(kp.secretKey, message);
        const b = await nobleCryptoProvider.ed25519Sign(kp.secretKey, message);
        assert.deepEqual(a, b);
        assert.ok(await nobleCryptoProvider.ed25519Verify(kp.publicKey, message, a));
        assert.ok(await nodeCryptoProvider.ed25519Verify(kp.publicKey, message, b));
      }
      // The node key pair's public key is the seed's (as noble derives it).
      const again = await nobleCryptoProvider.ed25519Sign(fromNode.secretKey, message);
      assert.ok(await nodeCryptoProvider.ed25519Verify(fromNode.publicKey, message, again));
    }
  });

  it("Ed25519 verify says false, never throws, for bad input", async () => {
    const kp = await nodeCryptoProvider.ed25519Generate();
    const m = utf8("message");
    const sig = await nodeCryptoProvider.ed25519Sign(kp.secretKey, m);
    assert.equal(await nodeCryptoProvider.ed25519Verify(kp.publicKey, utf8("other"), sig), false);
    const flipped = sig.slice();
    flipped[10]! ^= 1;
    assert.equal(await nodeCryptoProvider.ed25519Verify(kp.publicKey, m, flipped), false);
    assert.equal(await nodeCryptoProvider.ed25519Verify(kp.publicKey.subarray(1), m, sig), false);
    assert.equal(await nodeCryptoProvider.ed25519Verify(kp.publicKey, m, sig.subarray(1)), false);
    assert.equal(await nodeCryptoProvider.ed25519Verify(new Uint8Array(32).fill(0xff), m, sig), false);
    await assert.rejects(nodeCryptoProvider.ed25519Sign(new Uint8Array(31), m));
  });

  it("hashes, randomness and seal/open agree with the noble provider", async () => {
    const data = nodeCryptoProvider.randomBytes(1000);
    assert.equal(data.length, 1000);
    assert.ok(!(data instanceof Buffer), "plain Uint8Array");
    assert.deepEqual(await nodeCryptoProvider.sha256(data), await nobleCryptoProvider.sha256(data));
    assert.deepEqual(await nodeCryptoProvider.sha512(data), await nobleCryptoProvider.sha512(data));
    const key = nodeCryptoProvider.randomBytes(32);
    const aad = utf8("aad");
    const sealed = await nodeCryptoProvider.seal(key, data, aad);
    assert.deepEqual(await nobleCryptoProvider.open(key, sealed, aad), data);
    assert.deepEqual(
      await nodeCryptoProvider.open(key, await nobleCryptoProvider.seal(key, data), undefined),
      data,
    );
  });

  it("the MLS suite's native parts equal ts-mls' default suite", async () => {
    const native = await nodeCryptoProvider.mlsCiphersuite(SUITE);
    const reference = await getCiphersuiteImpl(SUITE);
    assert.equal(native.id, 1);
    assert.equal(native.kdf.size, reference.kdf.size);
    for (const n of [0, 1, 55, 64, 1000]) {
      const data = nodeCryptoProvider.randomBytes(n);
      const key = nodeCryptoProvider.randomBytes(32);
      assert.deepEqual(await native.hash.digest(data), await reference.hash.digest(data));
      const mac = await native.hash.mac(key, data);
      assert.deepEqual(mac, await reference.hash.mac(key, data));
      assert.ok(await native.hash.verifyMac(key, mac, data));
      assert.ok(!(await native.hash.verifyMac(key, mac.subarray(1), data)));
      assert.deepEqual(await native.kdf.extract(key, data), await reference.kdf.extract(key, data));
      assert.deepEqual(
        await native.kdf.extract(new Uint8Array(0), data),
        await reference.kdf.extract(new Uint8Array(0), data),
      );
      for (const length of [1, 16, 32, 33, 100]) {
        assert.deepEqual(
          await native.kdf.expand(key, data, length),
          await reference.kdf.expand(key, data, length),
        );
      }
      const aeadKey = key.subarray(0, 16);
      const nonce = nodeCryptoProvider.randomBytes(12);
      for (const aad of [new Uint8Array(0), utf8("context")]) {
        const ct = await native.hpke.encryptAead(aeadKey, nonce, aad, data);
        assert.deepEqual(ct, await reference.hpke.encryptAead(aeadKey, nonce, aad, data));
        assert.deepEqual(await reference.hpke.decryptAead(aeadKey, nonce, aad, ct), data);
        assert.deepEqual(await native.hpke.decryptAead(aeadKey, nonce, aad, ct), data);
        const bad = ct.slice();
        bad[0]! ^= 1;
        await assert.rejects(native.hpke.decryptAead(aeadKey, nonce, aad, bad));
        await assert.rejects(native.hpke.decryptAead(aeadKey, nonce, aad, ct.subarray(0, 15)));
      }
    }
    // Signatures: interchangeable with the default suite (WebCrypto), including its PKCS#8 keys.
    const message = utf8("sign me");
    const generated = await reference.signature.keygen();
    assert.equal(generated.signKey.length, 48, "ts-mls' WebCrypto keygen returns PKCS#8");
    const sig = await native.signature.sign(generated.signKey, message);
    assert.deepEqual(sig, await reference.signature.sign(generated.signKey, message));
    assert.ok(await reference.signature.verify(generated.publicKey, message, sig));
    const own = await native.signature.keygen();
    assert.equal(own.signKey.length, 32);
    const sig2 = await native.signature.sign(own.signKey, message);
    assert.ok(await reference.signature.verify(own.publicKey, message, sig2));
    assert.deepEqual(sig2, await reference.signature.sign(own.signKey, message));
    assert.equal(await native.signature.verify(own.publicKey, concatBytes(message, message), sig2), false);
    assert.equal(nodeCryptoProvider.mlsCiphersuite(SUITE), nodeCryptoProvider.mlsCiphersuite(SUITE));
  });

  // RFC 9180 Appendix A.1.1: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM, mode_base.
  const A11 = {
    info: "4f6465206f6e2061204772656369616e2055726e",
    ikmE: "7268600d403fce431561aef583ee1613527cff655c1343f29812e66706df3234",
    ikmR: "6db9df30aa07dd42ee5e8181afdb977e538f5e1fec8a06223f33f7013e525037",
    pkRm: "3948cfe0ad1ddb695d780e59077195da6c56506b027329794ab02bca80815c4d",
    skRm: "4612c550263fc8ad58375df3f557aac531d26850903e55a9f23f21d8534e8ac8",
    enc: "37fda3567bdbd628e88668c3c8d7e97d1d1253b6d4ea6d44c150f741f1bf4431",
    pt: "4265617574792069732074727574682c20747275746820626561757479",
    aad: "436f756e742d30",
    ct: "f938558b5d72f1a23810b4be2ab4f84331acc02fc97babc53a52ae8218a355a96d8770ac83d07bea87e13c512a",
  };

  /** Suite 1's HPKE of each provider (both composed by crypto/hpke.ts), and SealBase with a given ephemeral. */
  const hpkes = [
    { name: "node", hpke: nodeX25519Hpke, sealWithEphemeral: x25519HpkeSealWithEphemeral },
    {
      name: "noble",
      hpke: nobleX25519Hpke.hpke,
      sealWithEphemeral: (
        pk: Uint8Array,
        pt: Uint8Array,
        info: Uint8Array,
        aad: Uint8Array,
        ikmE: Uint8Array,
      ) =>
        nobleX25519Hpke.sealSync(
          nobleX25519Hpke.kem.importPublicKey(pk),
          pt,
          info,
          aad,
          nobleX25519Hpke.kem.deriveKeyPair(ikmE).privateKey,
        ),
    },
  ];

  for (const { name, hpke: h, sealWithEphemeral } of hpkes)
    it(`HPKE (${name} provider) matches RFC 9180's test vector (A.1.1, sequence 0, and its exporter)`, async () => {
      const recipient = await h.deriveKeyPair(fromHex(A11.ikmR));
      assert.deepEqual(await h.exportPublicKey(recipient.publicKey), fromHex(A11.pkRm));
      assert.deepEqual(await h.exportPrivateKey(recipient.privateKey), fromHex(A11.skRm));
      const sealed = sealWithEphemeral(
        fromHex(A11.pkRm),
        fromHex(A11.pt),
        fromHex(A11.info),
        fromHex(A11.aad),
        fromHex(A11.ikmE),
      );
      assert.deepEqual(sealed.enc, fromHex(A11.enc));
      assert.deepEqual(sealed.ct, fromHex(A11.ct));
      const sk = await h.importPrivateKey(fromHex(A11.skRm));
      assert.deepEqual(
        await h.open(sk, fromHex(A11.enc), fromHex(A11.ct), fromHex(A11.info), fromHex(A11.aad)),
        fromHex(A11.pt),
      );
      // A.1.1's exported values: the exporter_secret of the same context (SendExport draws a fresh
      // ephemeral, so the vector's is checked on the receiving side, by ReceiveExport with its enc).
      for (const [ctx, value] of [
        ["", "3853fe2b4035195a573ffc53856e77058e15d9ea064de3e59f4961d0095250ee"],
        ["00", "2e8f0b54673c7029649d4eb9d5e33bf1872cf76d623ff164ac185da9e88c21a5"],
        ["54657374436f6e74657874", "e9e43065102c3836401bed8c3c3c75ae46be1639869391d62c61f1ec7af54931"],
      ] as const) {
        assert.deepEqual(
          await h.importSecret(sk, fromHex(ctx), fromHex(A11.enc), 32, fromHex(A11.info)),
          fromHex(value),
        );
      }
      // Tampering anywhere fails, with Parley's CryptoError.
      for (const [enc, ct, aad] of [
        [fromHex(A11.enc), fromHex(A11.ct).map((b, i) => (i === 3 ? b ^ 1 : b)), fromHex(A11.aad)],
        [fromHex(A11.enc).map((b, i) => (i === 3 ? b ^ 1 : b)), fromHex(A11.ct), fromHex(A11.aad)],
        [fromHex(A11.enc), fromHex(A11.ct), utf8("Count-1")],
      ] as const) {
        await assert.rejects(h.open(sk, enc, ct, fromHex(A11.info), aad), /CryptoError|AES-GCM|X25519/);
      }
      // A low-order point (all zeros) gives an all-zero shared secret: refused.
      await assert.rejects(
        h.open(sk, new Uint8Array(32), fromHex(A11.ct), fromHex(A11.info)),
        /X25519|failed/,
      );
      await assert.rejects(h.importPublicKey(new Uint8Array(31)), /32 bytes/);
      await assert.rejects(h.importPrivateKey(new Uint8Array(33)), /32 bytes/);
    });

  for (const { name, hpke: ours } of hpkes)
    it(`HPKE (${name} provider) interoperates with ts-mls' default (@hpke/core) in both directions`, async () => {
      const theirs = (await getCiphersuiteImpl(SUITE)).hpke;
      for (let i = 0; i < 4; i++) {
        const ikm = nodeCryptoProvider.randomBytes(32);
        const a = await ours.deriveKeyPair(ikm);
        const b = await theirs.deriveKeyPair(ikm);
        const pub = await ours.exportPublicKey(a.publicKey);
        const priv = await ours.exportPrivateKey(a.privateKey);
        assert.deepEqual(pub, await theirs.exportPublicKey(b.publicKey), "DeriveKeyPair: same public key");
        assert.deepEqual(
          priv,
          await theirs.exportPrivateKey(b.privateKey),
          "DeriveKeyPair: same private key",
        );
        const pt = nodeCryptoProvider.randomBytes(1 + i * 40);
        const info = utf8(`info ${i}`);
        const aad = i % 2 ? utf8("aad") : undefined;
        const toTheirs = await ours.seal(await ours.importPublicKey(pub), pt, info, aad);
        assert.deepEqual(
          await theirs.open(await theirs.importPrivateKey(priv), toTheirs.enc, toTheirs.ct, info, aad),
          pt,
        );
        const toOurs = await theirs.seal(await theirs.importPublicKey(pub), pt, info, aad);
        assert.deepEqual(
          await ours.open(await ours.importPrivateKey(priv), toOurs.enc, toOurs.ct, info, aad),
          pt,
        );
        // The exporter (external commits' init secret).
        const ctx = utf8("MLS 1.0 external init secret");
        const fromOurs = await ours.exportSecret(await ours.importPublicKey(pub), ctx, 32, info);
        assert.deepEqual(
          await theirs.importSecret(await theirs.importPrivateKey(priv), ctx, fromOurs.enc, 32, info),
          fromOurs.secret,
        );
        const fromTheirs = await theirs.exportSecret(await theirs.importPublicKey(pub), ctx, 32, info);
        assert.deepEqual(
          await ours.importSecret(await ours.importPrivateKey(priv), ctx, fromTheirs.enc, 32, info),
          fromTheirs.secret,
        );
        // Generated keys round-trip through export/import.
        const g = await ours.generateKeyPair();
        const gPriv = await ours.exportPrivateKey(g.privateKey);
        const again = await ours.importPrivateKey(gPriv);
        assert.deepEqual(await ours.exportPrivateKey(again), gPriv);
        const sealed = await theirs.seal(
          await theirs.importPublicKey(await ours.exportPublicKey(g.publicKey)),
          pt,
          info,
        );
        assert.deepEqual(await ours.open(again, sealed.enc, sealed.ct, info), pt);
      }
      assert.equal(ours.keyLength, theirs.keyLength);
      assert.equal(ours.nonceLength, theirs.nonceLength);
    });
  it("HPKE: the noble provider's and the node provider's interoperate in both directions", async () => {
    const [node, noble] = [nodeX25519Hpke, nobleX25519Hpke.hpke];
    for (let i = 0; i < 4; i++) {
      const ikm = nodeCryptoProvider.randomBytes(32);
      const a = await node.deriveKeyPair(ikm);
      const b = await noble.deriveKeyPair(ikm);
      const pub = await node.exportPublicKey(a.publicKey);
      const priv = await node.exportPrivateKey(a.privateKey);
      assert.deepEqual(await noble.exportPublicKey(b.publicKey), pub);
      assert.deepEqual(await noble.exportPrivateKey(b.privateKey), priv);
      const pt = nodeCryptoProvider.randomBytes(1 + i * 40);
      const info = utf8(`info ${i}`);
      const aad = i % 2 ? utf8("aad") : undefined;
      for (const [from, to] of [
        [noble, node],
        [node, noble],
      ] as const) {
        const sealed = await from.seal(await from.importPublicKey(pub), pt, info, aad);
        assert.deepEqual(
          await to.open(await to.importPrivateKey(priv), sealed.enc, sealed.ct, info, aad),
          pt,
        );
        const ctx = utf8("MLS 1.0 external init secret");
        const exported = await from.exportSecret(await from.importPublicKey(pub), ctx, 32, info);
        assert.deepEqual(
          await to.importSecret(await to.importPrivateKey(priv), ctx, exported.enc, 32, info),
          exported.secret,
        );
        const wrong = sealed.ct.slice();
        wrong[0]! ^= 1;
        await assert.rejects(
          to.open(await to.importPrivateKey(priv), sealed.enc, wrong, info, aad),
          /CryptoError|AES-GCM/,
        );
      }
    }
  });

  it("the noble suite's Ed25519 (WebCrypto here) signs as RFC 8032 and the node suite, from a seed or PKCS#8", async () => {
    const noble = (await nobleCryptoProvider.mlsCiphersuite(SUITE)).signature;
    const node = (await nodeCryptoProvider.mlsCiphersuite(SUITE)).signature;
    for (const v of RFC8032) {
      const pkcs8 = concatBytes(fromHex("302e020100300506032b657004220420"), fromHex(v.secret));
      assert.deepEqual(await noble.sign(fromHex(v.secret), fromHex(v.message)), fromHex(v.signature));
      assert.deepEqual(await noble.sign(pkcs8, fromHex(v.message)), fromHex(v.signature));
      assert.ok(await noble.verify(fromHex(v.public), fromHex(v.message), fromHex(v.signature)));
      const flipped = fromHex(v.signature);
      flipped[0]! ^= 1;
      assert.equal(await noble.verify(fromHex(v.public), fromHex(v.message), flipped), false);
    }
    const own = await noble.keygen();
    const m = utf8("both ways");
    assert.ok(await node.verify(own.publicKey, m, await noble.sign(own.signKey, m)));
    assert.equal(await noble.verify(own.publicKey.subarray(1), m, await node.sign(own.signKey, m)), false);
    await assert.rejects(noble.sign(new Uint8Array(31), m), /32-byte seed/);
  });

  it("key generation survives garbage collection at every turn (no generate + export deadlock)", () => {
    // Node 20: exporting a key made by generateKeyPairSync can deadlock if a collection runs during the
    // export (the generation job's destructor takes the key's lock the export holds). The provider
    // generates without that pair; this runs its generators and seals with a collection every few
    // allocations, in a child with a deadline (a deadlock would otherwise hang the test run).
    const provider = new URL("../src/crypto/node-provider.js", import.meta.url).href;
    const script = `
      const { nodeCryptoProvider, nodeX25519Hpke } = await import(${JSON.stringify(provider)});
      const pub = (await nodeX25519Hpke.generateKeyPair()).publicKey;
      for (let i = 0; i < 1500; i++) {
        await nodeCryptoProvider.ed25519Generate();
        await nodeX25519Hpke.generateKeyPair();
        await nodeX25519Hpke.seal(pub, new Uint8Array(32), new Uint8Array(8));
      }
      console.log("ok");`;
    const r = spawnSync(process.execPath, ["--gc-interval=10", "--input-type=module", "-e", script], {
      encoding: "utf8",
      timeout: 120_000,
    });
    assert.equal(r.signal, null, "the child hung (deadlock) and was killed at its deadline");
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), "ok");
  });
});
