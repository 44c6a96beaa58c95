/**
 * Fuzzing every decoder of input that comes from someone else: decrypted message content, group
 * metadata, invite links and sealed invites, padded envelopes, the relay wire schemas, the relay
 * client's reading of relay replies, and the MLS engine on random and mutated messages, Welcomes and
 * KeyPackages.
 *
 * The property is the same everywhere: a decoder returns a valid value or throws the error type its
 * module documents (ContentError, InviteError, PaddingError, RelayError, MlsProcessingError, ZodError
 * for a schema's `.parse`), never a TypeError, RangeError, SyntaxError or stack overflow, never hangs,
 * and never accepts a tampered ciphertext.
 *
 * A fixed seed by default, so CI is reproducible; run longer locally with
 *   PARLEY_FUZZ_RUNS=20 PARLEY_FUZZ_SEED=$RANDOM PARLEY_TEST_FILE_DEADLINE_MS=3600000 \
 *     node scripts/run-tests.mjs fuzz-decoders
 * (PARLEY_FUZZ_RUNS multiplies every property's default number of runs). A failure prints the seed
 * and the counterexample; fast-check's `path` in the report replays it.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { contentTypes, encode, mlsMessageEncoder, wireformats } from "ts-mls";
import { z } from "zod";
import { Content, ContentError, decodeContent, encodeContent } from "../src/content/index.js";
import { nodeCryptoProvider } from "../src/crypto/node-provider.js";
import { toBase64Url } from "../src/encoding/base64url.js";
import { utf8 } from "../src/encoding/bytes.js";
import { createIdentity } from "../src/identity/identity-key.js";
import { decodeGroupMetadata, encodeGroupMetadata } from "../src/messaging/group-metadata.js";
import {
  formatInviteLink,
  InviteError,
  InvitePayload,
  openInvite,
  parseInviteLink,
  sealInvite,
} from "../src/messaging/invite-link.js";
import { isSafeName } from "../src/messaging/text-safety.js";
import { type GroupState, type KeyPackageBundle, MlsProcessingError } from "../src/mls/engine.js";
import { TsMlsEngine } from "../src/mls/ts-mls-engine.js";
import { PADDING_BUCKETS, PaddingError, pad, unpad } from "../src/protocol/padding.js";
import {
  ClientFrame,
  CreateInviteResponse,
  CreateQueueRequest,
  CreateQueueResponse,
  DeliveredMessage,
  ErrorBody,
  FETCH_BINARY_TYPE,
  FetchResponse,
  RecipientCommand,
  SendResponse,
  ServerFrame,
} from "../src/protocol/relay.js";
import { RelayError } from "../src/relay-client/errors.js";
import { RelayHttpClient } from "../src/relay-client/relay-http.js";
import { RelaySocket } from "../src/relay-client/relay-socket.js";

// ---------------------------------------------------------------------------------------------------
// Run control

const SEED = Number(process.env["PARLEY_FUZZ_SEED"] ?? 0x5eed_c0de);
const SCALE = Math.max(Number(process.env["PARLEY_FUZZ_RUNS"] ?? 1) || 1, 0.01);
/** fast-check parameters for a property whose CI budget is `runs` runs. */
const params = (runs: number): fc.Parameters<unknown> => ({
  seed: SEED,
  numRuns: Math.max(1, Math.round(runs * SCALE)),
  // A property that stops making progress is a hang, not a slow run.
  interruptAfterTimeLimit: 100_000 * Math.max(1, SCALE),
  markInterruptAsFailure: true,
});
/** Per test; a longer run (PARLEY_FUZZ_RUNS) gets proportionally longer. */
const TEST_TIMEOUT_MS = 120_000 * Math.max(1, SCALE);
console.log(`fuzz-decoders: seed ${SEED} (PARLEY_FUZZ_SEED), runs ×${SCALE} (PARLEY_FUZZ_RUNS)`);

/** One call of a synchronous decoder must not take this long (a regex or parser blow-up). */
const SLOW_CALL_MS = 2_000;

/** Runs `fn`; returns what it returned or threw, and fails on a call that takes too long. */
function timed<T>(what: string, fn: () => T): { ok: true; value: T } | { ok: false; error: unknown } {
  const start = performance.now();
  try {
    return { ok: true, value: fn() };
  } catch (error) {
    return { ok: false, error };
  } finally {
    const ms = performance.now() - start;
    if (ms > SLOW_CALL_MS) assert.fail(`${what} took ${Math.round(ms)} ms`);
  }
}

/** The async counterpart of `timed`, with a deadline: a promise that never settles is a failure. */
async function timedAsync<T>(
  what: string,
  fn: () => Promise<T>,
  deadlineMs = 10_000,
): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${deadlineMs} ms`)), deadlineMs);
  });
  try {
    return { ok: true, value: await Promise.race([fn(), deadline]) };
  } catch (error) {
    if (error instanceof Error && error.message.startsWith(`${what}: no answer within`)) throw error;
    return { ok: false, error };
  } finally {
    clearTimeout(timer);
  }
}

/** Fails unless `error` is an instance of `type` (the decoder's documented error). */
function assertTyped(error: unknown, type: abstract new (...args: never[]) => Error, what: string): void {
  if (error instanceof type) return;
  const e = error as Error;
  assert.fail(
    `${what} threw ${e?.name ?? typeof error} instead of ${type.name}: ${e?.message ?? String(error)}`,
  );
}

// ---------------------------------------------------------------------------------------------------
// Generators

/** Strings from every corner of Unicode, lone surrogates included. */
const anyString = (maxLength = 64) =>
  fc.oneof(
    fc.string({ maxLength }),
    fc.string({ unit: "binary", maxLength }),
    fc.string({ unit: "grapheme", maxLength }),
    fc.constantFrom(
      "",
      "\u0000",
      "\u202e",
      "\ud800",
      "\udfff",
      "\u200d",
      "a\nb",
      "\u001b[31m",
      "__proto__",
      "constructor",
      "prototype",
      "toString",
      "💩".repeat(40),
    ),
  );

/** Keys that might pollute a prototype if a decoder merged objects carelessly. */
const hostileKey = fc.constantFrom("__proto__", "constructor", "prototype", "toString", "hasOwnProperty");

/** Any JSON-ish value, with hostile keys, odd numbers and null-prototype objects. */
const hostileValue = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
  {
    weight: 2,
    arbitrary: fc.anything({
      maxDepth: 3,
      withNullPrototype: true,
      withObjectString: true,
      withBoxedValues: true,
      withSparseArray: true,
      withBigInt: true,
      withDate: true,
      withMap: true,
      withSet: true,
      withTypedArray: true,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.dictionary(
      fc.oneof(hostileKey, fc.string({ maxLength: 8 })),
      fc.jsonValue({ maxDepth: 2 }),
    ),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      Number.NaN,
      Number.POSITIVE_INFINITY,
      -0,
      2 ** 53,
      -1,
      1.5,
      Number.MAX_VALUE,
      Number.MIN_VALUE,
    ),
  },
);

/** JSON.stringify that writes BigInts as strings (fc.anything makes some) and never throws. */
function toJson(value: unknown): string {
  try {
    return JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? v.toString() : v)) ?? "null";
  } catch {
    return "null";
  }
}

/** JSON text for `value` with a key renamed to `__proto__`, which JSON.parse keeps as an own property. */
const withProtoKey = (json: string) => json.replace(/"[a-zA-Z]+":/, '"__proto__":');

/** Nested arrays or objects `depth` levels deep, as JSON text (too deep for a recursive parser). */
const deepJson = (depth: number, kind: "array" | "object") =>
  kind === "array" ? "[".repeat(depth) + "]".repeat(depth) : '{"a":'.repeat(depth) + "1" + "}".repeat(depth);

/** Mutations of a byte string: bit flips, overwritten bytes, truncation, extension, a spliced slice. */
function mutated(original: Uint8Array): fc.Arbitrary<Uint8Array> {
  const n = original.length;
  const flip = fc.integer({ min: 0, max: n * 8 - 1 }).map((bit) => {
    const out = original.slice();
    out[bit >> 3]! ^= 1 << (bit & 7);
    return out;
  });
  const flips = fc
    .uniqueArray(fc.integer({ min: 0, max: n * 8 - 1 }), { minLength: 2, maxLength: 8 })
    .map((bits) => {
      const out = original.slice();
      for (const bit of bits) out[bit >> 3]! ^= 1 << (bit & 7);
      return out;
    });
  const overwrite = fc
    .tuple(fc.integer({ min: 0, max: n - 1 }), fc.uint8Array({ minLength: 1, maxLength: 16 }))
    .map(([at, bytes]) => {
      const out = original.slice();
      out.set(bytes.subarray(0, n - at), at);
      return out;
    })
    .filter((out) => out.some((b, i) => b !== original[i]));
  const truncate = fc.integer({ min: 0, max: n - 1 }).map((len) => original.slice(0, len));
  const extend = fc
    .uint8Array({ minLength: 1, maxLength: 64 })
    .map((tail) => Uint8Array.from([...original, ...tail]));
  const cut = fc
    .tuple(fc.integer({ min: 0, max: n - 1 }), fc.integer({ min: 1, max: 64 }))
    .map(([at, len]) => Uint8Array.from([...original.subarray(0, at), ...original.subarray(at + len)]));
  return fc.oneof(flip, flip, flips, overwrite, truncate, extend, cut);
}

// ---------------------------------------------------------------------------------------------------
// Message content and group metadata

const validContent = (): Content => ({
  v: 1,
  id: "m1",
  sentAt: 1_700_000_000_000,
  body: { type: "text", text: "hello" },
});

/** Content objects that are close to valid: right shape, fields replaced by hostile values. */
const nearContent = fc
  .record({
    v: fc.oneof(fc.constant(1), hostileValue),
    id: fc.oneof(anyString(80), hostileValue),
    sentAt: fc.oneof(fc.nat(), fc.integer(), fc.double(), hostileValue),
    body: fc.oneof(
      fc.record({ type: fc.constant("text"), text: fc.oneof(anyString(200), hostileValue) }),
      fc.record({
        type: fc.constant("intro"),
        name: fc.oneof(anyString(), hostileValue),
        replyTo: fc.oneof(
          fc.record({ relay: fc.oneof(fc.webUrl(), anyString()), sendId: anyString(70) }),
          hostileValue,
        ),
      }),
      fc.record({
        type: fc.constant("receipt"),
        ids: fc.oneof(fc.array(anyString(70), { maxLength: 300 }), hostileValue),
      }),
      fc.record({
        type: fc.constant("key-packages"),
        keyPackages: fc.oneof(fc.array(fc.base64String({ maxLength: 40 }), { maxLength: 12 }), hostileValue),
      }),
      fc.record({
        type: fc.constantFrom("group-invite", "group-queue"),
        welcome: fc.oneof(fc.base64String({ maxLength: 40 }), hostileValue),
        keyPackageRef: fc.oneof(anyString(70), hostileValue),
        queue: fc.oneof(
          fc.record({
            relay: fc.oneof(fc.webUrl(), anyString()),
            queueId: anyString(22),
            sendId: anyString(22),
            recipientKey: anyString(43),
            recipientSecretKey: anyString(43),
            broadcast: fc.oneof(fc.constant(true), hostileValue),
          }),
          hostileValue,
        ),
        cursor: fc.option(anyString(22), { nil: undefined }),
      }),
      fc.record({ type: fc.constantFrom("profile", "group-leave", "reply-to", "nope"), name: anyString() }),
      hostileValue,
    ),
  })
  .map(toJson);

/** Bytes for a decoder of JSON: random bytes, near-valid JSON, hostile JSON, deep nesting. */
const jsonishBytes = (near: fc.Arbitrary<string>, valid: string) =>
  fc.oneof(
    fc.uint8Array({ maxLength: 512 }),
    near.map(utf8),
    near.map((json) => utf8(withProtoKey(json))),
    hostileValue.map((v) => utf8(toJson(v))),
    fc.constantFrom(
      utf8(deepJson(20_000, "array")),
      utf8(deepJson(20_000, "object")),
      utf8(valid.slice(0, -1)),
      utf8(`${valid}\u0000`),
      Uint8Array.from([0xef, 0xbb, 0xbf, ...utf8(valid)]), // BOM
      Uint8Array.from([...utf8(valid.slice(0, 10)), 0xff, 0xfe, ...utf8(valid.slice(10))]), // bad UTF-8
      Uint8Array.from([...utf8(valid.slice(0, 10)), 0xed, 0xa0, 0x80, ...utf8(valid.slice(10))]), // surrogate
      new Uint8Array(0),
    ),
    mutated(utf8(valid)),
  );

describe("fuzz: message content (decodeContent)", () => {
  it("returns valid Content or throws ContentError", { timeout: TEST_TIMEOUT_MS }, () => {
    const valid = JSON.stringify(validContent());
    fc.assert(
      fc.property(jsonishBytes(nearContent, valid), (bytes) => {
        const r = timed("decodeContent", () => decodeContent(bytes));
        if (!r.ok) return assertTyped(r.error, ContentError, "decodeContent");
        // What it returns is valid content, whose names are safe to show, and round-trips.
        assert.equal(Content.safeParse(r.value).success, true);
        const body = r.value.body;
        if ("name" in body) assert.ok(isSafeName(body.name, "display name", 64), "unsafe name accepted");
        assert.deepEqual(decodeContent(encodeContent(r.value)), r.value);
      }),
      params(1500),
    );
    assert.equal(({} as Record<string, unknown>)["polluted"], undefined);
  });
});

describe("fuzz: group metadata (decodeGroupMetadata)", () => {
  it("returns valid metadata or undefined, never throws", { timeout: TEST_TIMEOUT_MS }, () => {
    const valid = JSON.stringify({ v: 1, name: "Hikers", admins: ["A".repeat(43)] });
    const near = fc
      .record({
        v: fc.oneof(fc.constant(1), hostileValue),
        name: fc.oneof(anyString(120), hostileValue),
        admins: fc.oneof(fc.array(anyString(43), { maxLength: 20 }), hostileValue),
      })
      .map(toJson);
    fc.assert(
      fc.property(fc.option(jsonishBytes(near, valid), { nil: undefined }), (bytes) => {
        const r = timed("decodeGroupMetadata", () => decodeGroupMetadata(bytes));
        if (!r.ok) assert.fail(`decodeGroupMetadata threw ${(r.error as Error)?.name}: ${r.error}`);
        if (r.value === undefined) return;
        assert.equal(r.value.v, 1);
        assert.ok(isSafeName(r.value.name, "group name", 100), "unsafe group name accepted");
        assert.deepEqual(decodeGroupMetadata(encodeGroupMetadata(r.value)), r.value);
      }),
      params(1500),
    );
  });
});

// ---------------------------------------------------------------------------------------------------
// Invite links and sealed invites

describe("fuzz: invite links (parseInviteLink, openInvite)", () => {
  const crypto = nodeCryptoProvider;
  const b64chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const b64of = (length: number) =>
    fc.string({ unit: fc.constantFrom(...b64chars), minLength: length, maxLength: length });

  it("parseInviteLink returns a well-formed link or throws InviteError", { timeout: TEST_TIMEOUT_MS }, () => {
    const relayPart = fc.oneof(
      fc.webUrl({ withQueryParameters: true, withFragments: false }),
      fc.constantFrom(
        "http://[",
        "http://[::1",
        "https://a:b@",
        "http://:99999",
        "http://a:65536",
        "https://%00",
        "http://x/%zz",
        "http://\u0000",
        "https://xn--",
        "http://1.2.3.4.5",
        "http://[::1]:0",
      ),
      fc.string({ maxLength: 30 }).map((s) => `http://${s}`),
      fc.string({ unit: "binary", maxLength: 30 }).map((s) => `https://${s}`),
    );
    const structured = fc
      .tuple(relayPart, fc.constantFrom("/", "", "//"), b64of(22), b64of(43))
      .map(([relay, slash, id, key]) => `${relay}${slash}#/invite/${id}/${key}`);
    const text = fc.oneof(
      structured,
      structured.map((s) => `  ${s}\n`),
      anyString(200),
      structured.chain((s) =>
        fc.tuple(fc.nat(s.length - 1), anyString(4)).map(([at, x]) => s.slice(0, at) + x + s.slice(at + 1)),
      ),
    );
    fc.assert(
      fc.property(text, (link) => {
        const r = timed("parseInviteLink", () => parseInviteLink(link));
        if (!r.ok) return assertTyped(r.error, InviteError, "parseInviteLink");
        assert.match(r.value.relay, /^https?:\/\//);
        assert.match(r.value.inviteId, /^[A-Za-z0-9_-]{22}$/);
        assert.equal(r.value.key.length, 32);
        // A parsed link formats back to one that parses to the same thing.
        assert.deepEqual(parseInviteLink(formatInviteLink(r.value)), r.value);
      }),
      params(2000),
    );
  });

  it("openInvite on random or tampered blobs throws InviteError", { timeout: TEST_TIMEOUT_MS }, async () => {
    const key = crypto.randomBytes(32);
    const payload: InvitePayload = { v: 1, name: "Alice", sendId: "s".repeat(22), keyPackage: "AAAA" };
    const sealed = await sealInvite(crypto, key, payload);
    assert.deepEqual(await openInvite(crypto, key, sealed), payload);
    const blob = fc.oneof(fc.uint8Array({ maxLength: 200 }), mutated(sealed));
    await fc.assert(
      fc.asyncProperty(blob, fc.boolean(), async (bytes, rightKey) => {
        const k = rightKey ? key : crypto.randomBytes(32);
        const r = await timedAsync("openInvite", () => openInvite(crypto, k, bytes));
        if (r.ok) assert.fail("openInvite accepted a random or tampered blob");
        assertTyped(r.error, InviteError, "openInvite");
      }),
      params(1000),
    );
  });

  it("openInvite on a correctly sealed but hostile payload throws InviteError", {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    // The key is in the link, so whoever made the link chose the plaintext: it is untrusted input.
    const key = crypto.randomBytes(32);
    const valid = JSON.stringify({ v: 1, name: "Alice", sendId: "s", keyPackage: "AAAA" });
    const near = fc
      .record({
        v: fc.oneof(fc.constant(1), hostileValue),
        name: fc.oneof(anyString(), hostileValue),
        sendId: fc.oneof(anyString(70), hostileValue),
        keyPackage: fc.oneof(fc.base64String({ maxLength: 40 }), hostileValue),
      })
      .map(toJson);
    await fc.assert(
      fc.asyncProperty(jsonishBytes(near, valid), async (plain) => {
        const sealed = await crypto.seal(key, plain, utf8("parley-invite-v1"));
        const r = await timedAsync("openInvite", () => openInvite(crypto, key, sealed));
        if (!r.ok) return assertTyped(r.error, InviteError, "openInvite");
        assert.equal(InvitePayload.safeParse(r.value).success, true);
        assert.ok(isSafeName(r.value.name, "display name", 64), "unsafe name accepted");
      }),
      params(500),
    );
  });
});

// ---------------------------------------------------------------------------------------------------
// Padding

describe("fuzz: padded envelopes (unpad)", () => {
  it("returns the payload or throws PaddingError", { timeout: TEST_TIMEOUT_MS }, () => {
    const smallBuckets = PADDING_BUCKETS.filter((b) => b <= 32 * 1024);
    /** A bucket-sized envelope with a chosen length field and a few stray bytes. */
    const crafted = fc
      .tuple(
        fc.constantFrom(...smallBuckets),
        fc.oneof(fc.nat(), fc.constantFrom(0, 0xffffffff, 0x7fffffff), fc.nat(40_000)),
        fc.array(fc.tuple(fc.nat(40_000), fc.integer({ min: 1, max: 255 })), { maxLength: 3 }),
      )
      .map(([size, length, stray]) => {
        const out = new Uint8Array(size);
        new DataView(out.buffer).setUint32(0, length >>> 0);
        for (const [at, value] of stray) if (at < size) out[at] = value;
        return out;
      });
    /** The same inside a larger buffer, so that byteOffset is not 0. */
    const offset = fc.tuple(fc.integer({ min: 1, max: 7 }), crafted).map(([at, env]) => {
      const big = new Uint8Array(at + env.length + 3).fill(0xaa);
      big.set(env, at);
      return big.subarray(at, at + env.length);
    });
    const input = fc.oneof(
      fc.uint8Array({ maxLength: 600 }),
      crafted,
      offset,
      fc.uint8Array({ maxLength: 300 }).chain((p) => mutated(pad(p))),
    );
    fc.assert(
      fc.property(input, (padded) => {
        const r = timed("unpad", () => unpad(padded));
        if (!r.ok) return assertTyped(r.error, PaddingError, "unpad");
        // What it accepts is: the length it names, then only zeros to the end of the bucket. (A
        // sender may use a larger bucket than `pad` would pick; that is not refused.)
        const length = new DataView(padded.buffer, padded.byteOffset).getUint32(0);
        assert.equal(r.value.length, length);
        assert.deepEqual(r.value, padded.subarray(4, 4 + length));
        assert.ok(padded.subarray(4 + length).every((b) => b === 0));
        if (padded.length === pad(r.value).length) assert.deepEqual(pad(r.value), Uint8Array.from(padded));
      }),
      params(2000),
    );
  });
});

// ---------------------------------------------------------------------------------------------------
// Relay wire schemas and the relay client's reading of relay replies

/**
 * A headed frame (docs/protocol.md): the head as JSON after its 4-byte length, then `rest`. A
 * `skew` other than 0 makes the declared length lie by that much (never below 0).
 */
function headedFrame(head: unknown, rest: Uint8Array, skew = 0): Uint8Array {
  const json = utf8(toJson(head));
  const out = new Uint8Array(4 + json.length + rest.length);
  new DataView(out.buffer).setUint32(0, Math.max(0, json.length + skew));
  out.set(json, 4);
  out.set(rest, 4 + json.length);
  return out;
}

describe("fuzz: relay wire schemas (protocol/relay.ts)", () => {
  const schemas = {
    ClientFrame,
    ServerFrame,
    RecipientCommand,
    CreateQueueRequest,
    CreateQueueResponse,
    CreateInviteResponse,
    SendResponse,
    DeliveredMessage,
    FetchResponse,
    ErrorBody,
  } as const;
  const id22 = fc
    .base64String({ minLength: 24, maxLength: 24 })
    .map((s) => s.slice(0, 22).replace(/[+/=]/g, "A"));
  /** Frames and bodies of the right shape with one or more fields mutated. */
  const nearFrame = fc.record(
    {
      type: fc.oneof(fc.constantFrom("ok", "err", "msg", "OK", ""), hostileValue),
      id: fc.oneof(fc.nat(), fc.integer(), fc.double(), fc.constant(null), hostileValue),
      cmd: fc.oneof(fc.constantFrom("sub", "fetch", "ack", "del", "new"), hostileValue),
      queueId: fc.oneof(id22, anyString(30), hostileValue),
      msgId: fc.oneof(id22, anyString(30), hostileValue),
      sendId: fc.oneof(id22, anyString(30)),
      ts: fc.oneof(fc.nat(), fc.integer(), fc.double(), fc.bigInt(), hostileValue),
      nonce: fc.oneof(id22, anyString(30)),
      sig: fc.oneof(fc.base64String({ maxLength: 100 }), anyString(90)),
      recipientKey: fc.oneof(fc.base64String({ maxLength: 50 }), anyString(50)),
      broadcast: fc.oneof(fc.boolean(), hostileValue),
      body: fc.oneof(fc.base64String({ maxLength: 40 }), hostileValue),
      code: fc.oneof(anyString(), hostileValue),
      error: fc.oneof(anyString(), hostileValue),
      messages: fc.oneof(
        fc.array(fc.record({ msgId: id22, body: anyString() }), { maxLength: 3 }),
        hostileValue,
      ),
      cursorFound: fc.oneof(fc.boolean(), hostileValue),
      [`__proto__`]: hostileValue,
    },
    { requiredKeys: [] },
  );
  it("safeParse never throws; parse throws only ZodError; accepted values re-validate", {
    timeout: TEST_TIMEOUT_MS,
  }, () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...(Object.keys(schemas) as (keyof typeof schemas)[])),
        fc.oneof(hostileValue, nearFrame),
        (name, value) => {
          const schema = schemas[name] as z.ZodType;
          const r = timed(`${name}.safeParse`, () => schema.safeParse(value));
          if (!r.ok) assert.fail(`${name}.safeParse threw ${(r.error as Error)?.name}: ${r.error}`);
          const p = timed(`${name}.parse`, () => schema.parse(value));
          if (!p.ok) assertTyped(p.error, z.ZodError, `${name}.parse`);
          assert.equal(p.ok, r.value.success);
          if (r.value.success) {
            // What passes is plain JSON data that passes again after a trip over the wire.
            assert.equal(schema.safeParse(JSON.parse(JSON.stringify(r.value.data))).success, true);
          }
        },
      ),
      params(3000),
    );
    assert.equal(({} as Record<string, unknown>)["polluted"], undefined);
  });

  it("RelayHttpClient turns any relay reply into a valid value or a RelayError", {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    const crypto = nodeCryptoProvider;
    const keys = await crypto.ed25519Generate();
    const queue = {
      relay: "http://relay.invalid",
      queueId: "q".repeat(22),
      sendId: "s".repeat(22),
      recipientKey: toBase64Url(keys.publicKey),
      recipientSecretKey: toBase64Url(keys.secretKey),
    };
    /** Headed frames (docs/protocol.md): a head near a FetchHead, bodies, and a length prefix that may lie. */
    const fetchHead = fc.record(
      {
        messages: fc.oneof(
          fc.array(fc.record({ msgId: id22, size: fc.oneof(fc.nat(80), fc.integer(), hostileValue) }), {
            maxLength: 4,
          }),
          hostileValue,
        ),
        cursorFound: fc.oneof(fc.boolean(), hostileValue),
      },
      { requiredKeys: [] },
    );
    const headedFrames = fc
      .tuple(
        fc.oneof(fetchHead, hostileValue, nearFrame),
        fc.uint8Array({ maxLength: 120 }),
        fc.integer({ min: -3, max: 3 }),
        fc.boolean(),
      )
      .map(([head, bodies, skew, lie]) => {
        return headedFrame(head, bodies, lie ? skew : 0);
      });
    const replyBody = fc.oneof(
      fc.uint8Array({ maxLength: 200 }),
      headedFrames,
      fc.oneof(hostileValue, nearFrame).map((v) => utf8(toJson(v))),
      fc.constantFrom(utf8("<html>proxy error</html>"), utf8(""), utf8(deepJson(20_000, "array"))),
    );
    const reply = fc.record({
      status: fc.oneof(
        fc.constantFrom(200, 201, 202, 204, 400, 404, 409, 413, 500, 502),
        fc.integer({ min: 200, max: 599 }),
      ),
      body: replyBody,
      contentType: fc.constantFrom(
        "application/json",
        "text/html",
        "application/octet-stream",
        FETCH_BINARY_TYPE,
      ),
    });
    const call = fc.constantFrom(
      "createQueue",
      "createBroadcast",
      "send",
      "fetch",
      "fetchAfter",
      "ack",
      "del",
      "createInvite",
      "claimInvite",
    );
    await fc.assert(
      fc.asyncProperty(call, reply, async (which, r) => {
        const fetchImpl = async () =>
          new Response(r.status === 204 ? null : (r.body as Uint8Array<ArrayBuffer>), {
            status: r.status,
            headers: { "content-type": r.contentType },
          });
        const client = new RelayHttpClient("http://relay.invalid", crypto, fetchImpl);
        const run = (): Promise<unknown> => {
          switch (which) {
            case "createQueue":
              return client.createQueue();
            case "createBroadcast":
              return client.createQueue({ broadcast: true });
            case "send":
              return client.send("s".repeat(22), new Uint8Array(512));
            case "fetch":
              return client.fetchMessages(queue);
            case "fetchAfter":
              return client.fetchMessages(queue, { after: "m".repeat(22) });
            case "ack":
              return client.ack(queue, "m".repeat(22));
            case "del":
              return client.deleteQueue(queue);
            case "createInvite":
              return client.createInvite(new Uint8Array(16));
            default:
              return client.claimInvite("i".repeat(22));
          }
        };
        const out = await timedAsync(`RelayHttpClient.${which}`, run);
        if (!out.ok) return assertTyped(out.error, RelayError, `RelayHttpClient.${which}`);
        assert.ok(r.status >= 200 && r.status < 300, `RelayHttpClient.${which} accepted status ${r.status}`);
      }),
      params(600),
    );
  });
});

describe("fuzz: pushed frames on the relay socket (relay-socket.ts)", () => {
  it("a binary frame is a message of a subscribed queue, exactly as its head says, or a malformed_frame error", {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    const crypto = nodeCryptoProvider;
    const keys = await crypto.ed25519Generate();
    const queue = {
      relay: "http://relay.invalid",
      queueId: "q".repeat(22),
      sendId: "s".repeat(22),
      recipientKey: toBase64Url(keys.publicKey),
      recipientSecretKey: toBase64Url(keys.secretKey),
      broadcast: true as const, // no acks to sign: the frames are what is under test
    };
    const head = fc.oneof(
      fc.record({
        type: fc.constantFrom("msg", "ok", "MSG"),
        queueId: fc.constantFrom(queue.queueId, "r".repeat(22), "short"),
        msgId: fc.oneof(fc.constant("m".repeat(22)), anyString(30)),
      }),
      hostileValue,
    );
    const frame = fc
      .tuple(
        head,
        fc.uint8Array({ maxLength: 64 }),
        fc.integer({ min: -5, max: 5 }),
        fc.boolean(),
        fc.boolean(),
      )
      .map(([h, body, skew, lie, asArrayBuffer]) => {
        const out = headedFrame(h, body, lie ? skew : 0);
        return { bytes: out, data: asArrayBuffer ? out.buffer : out, head: h, body, lie: lie && skew !== 0 };
      });
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          frame,
          fc
            .uint8Array({ maxLength: 40 })
            .map((bytes) => ({ bytes, data: bytes, head: undefined, body: undefined, lie: true })),
        ),
        async (f) => {
          const got: { msgId: string; body: Uint8Array }[] = [];
          const errors: Error[] = [];
          let fake: { onmessage: ((ev: { data: unknown }) => void) | null } | undefined;
          const socket = new RelaySocket("http://relay.invalid", crypto, {
            webSocket: () => {
              fake = {
                readyState: 0,
                send() {},
                close() {},
                onopen: null,
                onclose: null,
                onerror: null,
                onmessage: null,
              } as unknown as typeof fake;
              return fake as never;
            },
            onMessage: async (_q, msgId, body) => {
              got.push({ msgId, body: Uint8Array.from(body) });
            },
            onError: (e) => errors.push(e),
          });
          socket.start([queue]);
          const r = timed("RelaySocket frame", () => fake!.onmessage!({ data: f.data }));
          if (!r.ok) assert.fail(`a binary frame threw ${r.error}`);
          await socket.idle();
          socket.close();
          for (const e of errors) assertTyped(e, RelayError, "RelaySocket frame");
          const valid =
            !f.lie &&
            typeof f.head === "object" &&
            f.head !== null &&
            (f.head as { type?: unknown }).type === "msg" &&
            [queue.queueId, "r".repeat(22)].includes((f.head as { queueId: string }).queueId) &&
            /^[A-Za-z0-9_-]{22}$/.test((f.head as { msgId: string }).msgId);
          if (got.length > 0) {
            assert.ok(valid, "a message from a malformed frame");
            assert.equal(got.length, 1);
            assert.equal(got[0]!.msgId, (f.head as { msgId: string }).msgId);
            assert.deepEqual(got[0]!.body, f.body);
          } else if (valid && (f.head as { queueId: string }).queueId === queue.queueId) {
            assert.fail("a well-formed push for a subscribed queue was dropped");
          }
          if (!valid) assert.ok(errors.length > 0 || got.length === 0);
        },
      ),
      params(1500),
    );
  });
});

// ---------------------------------------------------------------------------------------------------
// The MLS engine on random and tampered input

describe("fuzz: MLS engine (TsMlsEngine)", () => {
  const crypto = nodeCryptoProvider;
  const engine = new TsMlsEngine(crypto);
  let bob: GroupState;
  let bobKp: KeyPackageBundle;
  let welcome: Uint8Array;
  let application: Uint8Array;
  let commit: Uint8Array;
  let groupId: Uint8Array;

  before(async () => {
    const [a, b] = await Promise.all([createIdentity(crypto), createIdentity(crypto)]);
    const aliceKp = await engine.createKeyPackage(a.device);
    bobKp = await engine.createKeyPackage(b.device);
    groupId = crypto.randomBytes(16);
    let alice = await engine.createGroup(groupId, a.device, aliceKp);
    const added = await engine.addMembers(alice, [bobKp.publicMessage]);
    alice = added.state;
    welcome = added.welcome;
    bob = await engine.joinFromWelcome(welcome, bobKp);
    // Both from Alice at the epoch Bob is in: an application message, then a commit (new keys).
    const encrypted = await engine.encrypt(alice, utf8("hello Bob"));
    application = encrypted.message;
    commit = (await engine.updateKeys(encrypted.state)).commit;
  });

  /** Why inputs were refused (the start of each message), to show how deep the fuzzing reaches. */
  const reasons = new Map<string, number>();
  const countReason = (error: unknown) => {
    const reason = String((error as Error).message)
      .split(":")
      .slice(0, 2)
      .join(":")
      .replace(/\d+/g, "N")
      .slice(0, 60);
    reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
  };

  /** Bob processes `message`: must be refused with MlsProcessingError, leaving his state usable. */
  async function mustReject(message: Uint8Array, what: string) {
    const r = await timedAsync(`process(${what})`, () => engine.process(bob, message));
    if (r.ok) assert.fail(`process accepted ${what}: ${r.value.kind}`);
    assertTyped(r.error, MlsProcessingError, `process(${what})`);
    countReason(r.error);
    const sender = await timedAsync(`senderOf(${what})`, () => engine.senderOf(bob, message));
    if (!sender.ok) assert.fail(`senderOf threw on ${what}: ${sender.error}`);
    assert.ok(sender.value === undefined || Number.isInteger(sender.value));
  }

  /** A PrivateMessage of Bob's group and epoch with random content: gets past the first checks. */
  const privateMessage = fc
    .record({
      epoch: fc.oneof(fc.constant(1n), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })),
      sameGroup: fc.boolean(),
      contentType: fc.constantFrom(contentTypes.application, contentTypes.commit, contentTypes.proposal),
      authenticatedData: fc.uint8Array({ maxLength: 16 }),
      encryptedSenderData: fc.uint8Array({ maxLength: 64 }),
      ciphertext: fc.uint8Array({ maxLength: 256 }),
    })
    .map((m) =>
      encode(mlsMessageEncoder, {
        version: 1,
        wireformat: wireformats.mls_private_message,
        privateMessage: {
          groupId: m.sameGroup ? groupId : crypto.randomBytes(16),
          epoch: m.epoch,
          contentType: m.contentType,
          authenticatedData: m.authenticatedData,
          encryptedSenderData: m.encryptedSenderData,
          ciphertext: m.ciphertext,
        },
      } as Parameters<typeof mlsMessageEncoder>[0]),
    );

  it("process refuses random bytes and random PrivateMessages", { timeout: TEST_TIMEOUT_MS }, async () => {
    const input = fc.oneof(
      fc.uint8Array({ maxLength: 512 }),
      fc.uint8Array({ maxLength: 256 }).map((b) => Uint8Array.from([0, 1, 0, 2, ...b])), // "private"
      fc.uint8Array({ maxLength: 256 }).map((b) => Uint8Array.from([0, 1, 0, 1, ...b])), // "public"
      privateMessage,
    );
    await fc.assert(
      fc.asyncProperty(input, (bytes) => mustReject(bytes, "random bytes")),
      params(1000),
    );
  });

  it("process refuses every tampered application message and commit", {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(mutated(application), mutated(commit)), (bytes) =>
        mustReject(bytes, "a tampered ciphertext"),
      ),
      params(1000),
    );
    // Nothing was spent: the genuine messages still go through, in order.
    const app = await engine.process(bob, application);
    assert.equal(app.kind, "application");
    const next = await engine.process(app.state, commit);
    assert.equal(next.kind, "commit");
  });

  it("joinFromWelcome refuses tampered Welcomes", { timeout: TEST_TIMEOUT_MS }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(mutated(welcome), fc.uint8Array({ maxLength: 300 })), async (bytes) => {
        const r = await timedAsync("joinFromWelcome", () => engine.joinFromWelcome(bytes, bobKp));
        if (r.ok) assert.fail("joinFromWelcome accepted a tampered Welcome");
        assertTyped(r.error, MlsProcessingError, "joinFromWelcome");
        countReason(r.error);
      }),
      params(400),
    );
    // The genuine Welcome still works.
    const again = await engine.joinFromWelcome(welcome, bobKp);
    assert.equal(again.epoch, 1n);
  });

  it("inspectKeyPackage refuses tampered and random KeyPackages", { timeout: TEST_TIMEOUT_MS }, async () => {
    const kp = bobKp.publicMessage;
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          mutated(kp),
          fc.uint8Array({ maxLength: 300 }),
          fc.uint8Array({ maxLength: 300 }).map((b) => Uint8Array.from([0, 1, 0, 5, ...b])),
        ),
        async (bytes) => {
          const r = await timedAsync("inspectKeyPackage", () => engine.inspectKeyPackage(bytes));
          if (r.ok) assert.fail("inspectKeyPackage accepted a tampered KeyPackage");
          assertTyped(r.error, MlsProcessingError, "inspectKeyPackage");
          countReason(r.error);
        },
      ),
      params(600),
    );
    const member = await engine.inspectKeyPackage(kp);
    assert.equal(member.leafIndex, -1);
  });

  after(() => {
    // Nothing to close (the engine holds no sockets or timers); show where inputs were refused.
    const lines = [...reasons].sort((a, b) => b[1] - a[1]).map(([r, n]) => `  ${n}× ${r}`);
    console.log(`MLS refusals by reason:\n${lines.join("\n")}`);
  });
});

// ---------------------------------------------------------------------------------------------------
// The inputs that fuzzing found, kept as plain regression tests

describe("fuzz findings (regressions)", () => {
  const key43 = "A".repeat(43);
  const id = "B".repeat(22);
  it("parseInviteLink: a relay part that is no URL, a non-canonical key: InviteError", () => {
    for (const link of [
      `https:///#/invite/${id}/${key43}`,
      `http://[/#/invite/${id}/${key43}`,
      `https://relay.example/#/invite/${id}/${"A".repeat(42)}B`, // trailing bits set
    ]) {
      assert.throws(() => parseInviteLink(link), InviteError, link);
    }
  });

  it("openInvite: a sealed payload that is not UTF-8 JSON: InviteError", async () => {
    const crypto = nodeCryptoProvider;
    const key = crypto.randomBytes(32);
    for (const plain of [utf8("z"), Uint8Array.from([0xff]), new Uint8Array(0)]) {
      const sealed = await crypto.seal(key, plain, utf8("parley-invite-v1"));
      await assert.rejects(openInvite(crypto, key, sealed), InviteError);
    }
  });

  it("RelayHttpClient: a 2xx reply that is not JSON: RelayError bad_response", async () => {
    for (const body of ["", "<html>proxy</html>"]) {
      const client = new RelayHttpClient(
        "http://relay.invalid",
        nodeCryptoProvider,
        async () => new Response(body, { status: 201 }),
      );
      await assert.rejects(client.createInvite(new Uint8Array(8)), (e: unknown) => {
        assert.ok(e instanceof RelayError);
        assert.equal(e.code, "bad_response");
        return true;
      });
    }
  });
});
