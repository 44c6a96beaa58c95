/**
 * Large MLS groups, in-process (no relay): for each N, a group of N members built in batches, then
 * medians of
 *  - commitCreateMs     an update (path-only) commit created by the group's creator;
 *  - commitProcessMs    that commit processed by another member;
 *  - joinMs             joining from the Welcome of the last batch (ratchet tree inside the GroupInfo);
 *  - encryptMs / decryptMs   one application message;
 *  - persistAfterMessageMs   what has to be written after receiving one: the engine's ratchet part
 *                       (ratchetBytesAfterMessage); the epoch part is written only when the epoch moves;
 *  - stateBytes         a member's whole saved state (epoch part + ratchet part);
 *  - add100Ms           adding 100 members to a group of N − 100 in one commit (N > 100).
 * Each beside the same operation done with plain ts-mls (its default crypto provider, the unsafe
 * testing authentication service, createCommit / processMessage / joinGroup, and the whole state
 * through clientStateEncoder): the `tsMls*` keys.
 *
 * BENCH_GROUP_SIZES=10,100,1000,2000 (the default) chooses the sizes; BENCH_GROUP_RAW=0 skips plain ts-mls.
 */
import {
  createIdentity,
  type GroupState,
  type KeyPackageBundle,
  type NewIdentity,
  TsMlsEngine,
  tsMlsClientStateOf,
} from "@parley/core";
import { nodeCryptoProvider } from "@parley/core/node";
import {
  type ClientState,
  clientStateEncoder,
  createApplicationMessage,
  createCommit,
  decode,
  defaultProposalTypes,
  encode,
  getCiphersuiteImpl,
  joinGroup,
  type MlsContext,
  mlsMessageDecoder,
  privateKeyPackageDecoder,
  processMessage,
  unsafeTestingAuthenticationService,
} from "ts-mls";
import { median, round, writeResults } from "./report.js";

const crypto = nodeCryptoProvider;
const engine = new TsMlsEngine(crypto);
const SIZES = (process.env.BENCH_GROUP_SIZES ?? "10,100,1000,2000").split(",").map(Number);
const RAW = process.env.BENCH_GROUP_RAW !== "0";
const LAST_BATCH = 100;
const BUILD_BATCH = Number(process.env.BENCH_GROUP_BATCH ?? 250);
const SUITE = "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519" as const;

const reps = (n: number) => (n <= 100 ? 15 : n <= 1000 ? 7 : n <= 2000 ? 5 : 3);
const now = () => performance.now();
const copy = (s: GroupState) => engine.deserialize(engine.serialize(s));
const log = (...args: unknown[]) =>
  console.error(`[groups ${new Date().toISOString().slice(11, 19)}]`, ...args);

async function time<T>(f: () => Promise<T>): Promise<[number, T]> {
  const t = now();
  const r = await f();
  return [now() - t, r];
}

function decodeMessage(bytes: Uint8Array) {
  const m = decode(mlsMessageDecoder, bytes);
  if (m === undefined) throw new Error("bad message");
  return m;
}

function keyPackageOf(bundle: KeyPackageBundle) {
  const m = decodeMessage(bundle.publicMessage);
  if (!("keyPackage" in m)) throw new Error("not a KeyPackage");
  return m.keyPackage;
}

interface Built {
  /** The creator's state before the last batch (N − LAST_BATCH members, or 1). */
  beforeLast: GroupState;
  lastBatch: KeyPackageBundle[];
  creator: GroupState;
  member: GroupState;
  welcome: Uint8Array;
  joiner: KeyPackageBundle;
  buildMs: number;
}

async function build(n: number): Promise<Built> {
  const t0 = now();
  const people: NewIdentity[] = [];
  for (let i = 0; i < n; i++) people.push(await createIdentity(crypto));
  const kps: KeyPackageBundle[] = [];
  for (const p of people) kps.push(await engine.createKeyPackage(p.device));
  let creator = await engine.createGroup(
    crypto.randomBytes(16),
    people[0]!.device,
    kps[0]!,
    new Uint8Array(64),
  );
  const lastStart = Math.max(1, n - LAST_BATCH);
  for (let from = 1; from < lastStart; from += BUILD_BATCH) {
    const to = Math.min(lastStart, from + BUILD_BATCH);
    const [ms, r] = await time(() =>
      engine.commit(creator, { add: kps.slice(from, to).map((k) => k.publicMessage) }),
    );
    creator = r.state;
    log(`N=${n}: added ${from}..${to - 1} in ${Math.round(ms)} ms`);
  }
  const beforeLast = copy(creator);
  const lastBatch = kps.slice(lastStart);
  const last = await engine.commit(creator, { add: lastBatch.map((k) => k.publicMessage) });
  if (last.welcome === undefined) throw new Error("no Welcome");
  const member = await engine.joinFromWelcome(last.welcome, lastBatch[0]!);
  return {
    beforeLast,
    lastBatch,
    creator: last.state,
    member,
    welcome: last.welcome,
    joiner: lastBatch[lastBatch.length - 1]!,
    buildMs: now() - t0,
  };
}

interface Measured {
  commitCreate: number[];
  commitProcess: number[];
  join: number[];
  encrypt: number[];
  decrypt: number[];
  persist: number[];
  persistBytes: number;
  stateBytes: number;
  add100: number[];
}

async function measureParley(b: Built, n: number): Promise<Measured> {
  const k = reps(n);
  const m: Measured = {
    commitCreate: [],
    commitProcess: [],
    join: [],
    encrypt: [],
    decrypt: [],
    persist: [],
    persistBytes: 0,
    stateBytes: 0,
    add100: [],
  };
  let commit: Uint8Array | undefined;
  for (let i = 0; i < k; i++) {
    const s = copy(b.creator);
    const [ms, r] = await time(() => engine.commit(s, {}));
    m.commitCreate.push(ms);
    commit ??= r.commits[0];
  }
  for (let i = 0; i < k; i++) {
    const s = copy(b.member);
    const [ms] = await time(() => engine.process(s, commit!));
    m.commitProcess.push(ms);
  }
  for (let i = 0; i < k; i++) {
    // A fresh engine: its authentication service has verified none of the members' certificates.
    const joiner = new TsMlsEngine(crypto);
    const [ms] = await time(() => joiner.joinFromWelcome(b.welcome, b.joiner));
    m.join.push(ms);
  }
  let sender = copy(b.member);
  let receiver = copy(b.creator);
  for (let i = 0; i < 50; i++) {
    const plaintext = crypto.randomBytes(100);
    const [enc, sent] = await time(() => engine.encrypt(sender, plaintext));
    sender = sent.state;
    const [dec, got] = await time(() => engine.process(receiver, sent.message));
    receiver = got.state;
    // What a client writes after a message: the ratchet part (the epoch part only when the epoch moved).
    const t = now();
    const part = engine.serialize(receiver).ratchetPart;
    m.persist.push(now() - t);
    m.persistBytes = part.length;
    m.encrypt.push(enc);
    m.decrypt.push(dec);
  }
  const saved = engine.serialize(sender);
  m.stateBytes = saved.epochPart.length + saved.ratchetPart.length;
  if (n > LAST_BATCH) {
    for (let i = 0; i < Math.min(k, 3); i++) {
      const s = copy(b.beforeLast);
      const [ms] = await time(() => engine.commit(s, { add: b.lastBatch.map((kp) => kp.publicMessage) }));
      m.add100.push(ms);
    }
  }
  return m;
}

/** The same operations with plain ts-mls: default provider, no authentication, whole-state encoding. */
async function measureRaw(b: Built, n: number): Promise<Measured> {
  const k = reps(n);
  const context: MlsContext = {
    cipherSuite: await getCiphersuiteImpl(SUITE),
    authService: unsafeTestingAuthenticationService,
  };
  const state = (s: GroupState): ClientState => tsMlsClientStateOf(copy(s));
  const m: Measured = {
    commitCreate: [],
    commitProcess: [],
    join: [],
    encrypt: [],
    decrypt: [],
    persist: [],
    persistBytes: 0,
    stateBytes: 0,
    add100: [],
  };
  let commit: Awaited<ReturnType<typeof createCommit>>["commit"] | undefined;
  for (let i = 0; i < k; i++) {
    const s = state(b.creator);
    const [ms, r] = await time(() => createCommit({ context, state: s }));
    m.commitCreate.push(ms);
    commit ??= r.commit;
  }
  for (let i = 0; i < k; i++) {
    const s = state(b.member);
    const [ms] = await time(() => processMessage({ context, state: s, message: commit! }));
    m.commitProcess.push(ms);
  }
  const welcome = decodeMessage(b.welcome);
  if (!("welcome" in welcome)) throw new Error("not a Welcome");
  const joinerPrivate = privateKeyPackageDecoder(b.joiner.privateKey, 0)![0];
  for (let i = 0; i < k; i++) {
    const [ms] = await time(() =>
      joinGroup({
        context,
        welcome: welcome.welcome,
        keyPackage: keyPackageOf(b.joiner),
        privateKeys: joinerPrivate,
      }),
    );
    m.join.push(ms);
  }
  let sender = state(b.member);
  let receiver = state(b.creator);
  for (let i = 0; i < 50; i++) {
    const plaintext = crypto.randomBytes(100);
    const [enc, sent] = await time(() =>
      createApplicationMessage({ context, state: sender, message: plaintext }),
    );
    sender = sent.newState;
    const [dec, got] = await time(() => processMessage({ context, state: receiver, message: sent.message }));
    receiver = got.newState;
    const t = now();
    const bytes = encode(clientStateEncoder, receiver);
    m.persist.push(now() - t);
    m.persistBytes = bytes.length;
    m.encrypt.push(enc);
    m.decrypt.push(dec);
  }
  m.stateBytes = encode(clientStateEncoder, sender).length;
  if (n > LAST_BATCH) {
    const adds = b.lastBatch.map((kp) => ({
      proposalType: defaultProposalTypes.add,
      add: { keyPackage: keyPackageOf(kp) },
    }));
    for (let i = 0; i < Math.min(k, 3); i++) {
      const s = state(b.beforeLast);
      const [ms] = await time(() =>
        createCommit({ context, state: s, extraProposals: adds, ratchetTreeExtension: true }),
      );
      m.add100.push(ms);
    }
  }
  return m;
}

const med = (v: number[], digits = 2) => (v.length === 0 ? null : round(median(v), digits));

const rows: Record<string, unknown>[] = [];
for (const n of SIZES) {
  log(`N=${n}: building`);
  const built = await build(n);
  log(`N=${n}: built in ${Math.round(built.buildMs)} ms; measuring Parley`);
  const p = await measureParley(built, n);
  if (RAW) log(`N=${n}: measuring plain ts-mls`);
  const r = RAW ? await measureRaw(built, n) : undefined;
  rows.push({
    N: n,
    commitCreateMs: med(p.commitCreate),
    commitProcessMs: med(p.commitProcess),
    joinMs: med(p.join),
    encryptMs: med(p.encrypt, 3),
    decryptMs: med(p.decrypt, 3),
    persistAfterMessageMs: med(p.persist, 3),
    ratchetBytesAfterMessage: p.persistBytes,
    stateBytes: p.stateBytes,
    add100Ms: med(p.add100),
    ...(r
      ? {
          tsMlsCommitCreateMs: med(r.commitCreate),
          tsMlsCommitProcessMs: med(r.commitProcess),
          tsMlsJoinMs: med(r.join),
          tsMlsEncryptMs: med(r.encrypt, 3),
          tsMlsDecryptMs: med(r.decrypt, 3),
          tsMlsPersistAfterMessageMs: med(r.persist, 3),
          tsMlsStateBytes: r.stateBytes,
          tsMlsAdd100Ms: med(r.add100),
        }
      : {}),
    buildS: round(built.buildMs / 1000, 1),
  });
  log(JSON.stringify(rows.at(-1)));
}

// The table: Parley beside plain ts-mls.
const table = rows.map((r) => ({
  N: r.N,
  "commit create": `${r.commitCreateMs} / ${r.tsMlsCommitCreateMs ?? "-"}`,
  "commit process": `${r.commitProcessMs} / ${r.tsMlsCommitProcessMs ?? "-"}`,
  join: `${r.joinMs} / ${r.tsMlsJoinMs ?? "-"}`,
  encrypt: `${r.encryptMs} / ${r.tsMlsEncryptMs ?? "-"}`,
  decrypt: `${r.decryptMs} / ${r.tsMlsDecryptMs ?? "-"}`,
  "persist after msg": `${r.persistAfterMessageMs} (${r.ratchetBytesAfterMessage} B) / ${r.tsMlsPersistAfterMessageMs ?? "-"}`,
  "state bytes": `${r.stateBytes} / ${r.tsMlsStateBytes ?? "-"}`,
  "add 100": `${r.add100Ms ?? "-"} / ${r.tsMlsAdd100Ms ?? "-"}`,
}));
console.log("\nms, medians — Parley engine (node provider) / plain ts-mls 2.0.0-rc.10 (default provider)");
console.table(table);
writeResults("groups", rows, {
  note: "Parley: TsMlsEngine, node crypto provider, Parley authentication, split persistence. tsMls*: plain ts-mls, default provider, unsafe testing auth, clientStateEncoder.",
});
