/**
 * One operation of the groups bench, measured for one implementation in a child process, so that the
 * caller can stop it at a deadline (SIGKILL) and record "over X s" instead of hanging on plain ts-mls
 * at 10,000 members. (Worker threads were tried: terminating one inside an OpenSSL call left a lock
 * held, and the next key generation in the main thread waited forever.) Inputs arrive as serialized states
 * (SerializedGroupState of the engine that built the group); every repetition starts from a fresh copy.
 *
 * Implementations: "rfc9420" (Rfc9420Engine, suite 1), "rfc9420-pq" (Rfc9420Engine on the post-quantum
 * suite, X-Wing 0xF00D), "tsmls-engine" (TsMlsEngine), "ts-mls" (plain ts-mls:
 * default provider, unsafe testing authentication, createCommit / processMessage / joinGroup,
 * the whole state through clientStateEncoder; states taken from TsMlsEngine's).
 */
import {
  type GroupState,
  type KeyPackageBundle,
  type MlsEngine,
  PQ_MLS_CIPHERSUITE,
  Rfc9420Engine,
  type SerializedGroupState,
} from "@parley/core";
import { nodeCryptoProvider } from "@parley/core/node";
import { TsMlsEngine, tsMlsClientStateOf } from "@parley/core/ts-mls";
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
  mlsMessageEncoder,
  privateKeyPackageDecoder,
  processMessage,
  unsafeTestingAuthenticationService,
} from "ts-mls";

export type Impl = "rfc9420" | "rfc9420-pq" | "tsmls-engine" | "ts-mls";

/** The engine of an implementation (plain ts-mls works on TsMlsEngine's groups). */
export function engineOf(impl: Impl): MlsEngine {
  if (impl === "rfc9420") return new Rfc9420Engine(nodeCryptoProvider);
  if (impl === "rfc9420-pq")
    return new Rfc9420Engine(nodeCryptoProvider, { ciphersuite: PQ_MLS_CIPHERSUITE });
  return new TsMlsEngine(nodeCryptoProvider);
}
/** commitProcess also times the persisting of the state it returns (times2). */
export type Op = "commitCreate" | "commitProcess" | "join" | "add100" | "messages";

export interface Job {
  impl: Impl;
  op: Op;
  reps: number;
  creator: SerializedGroupState;
  member: SerializedGroupState;
  beforeLast: SerializedGroupState;
  lastBatch: Uint8Array[];
  welcome: Uint8Array;
  joiner: KeyPackageBundle;
  /** For commitProcess: a commit made by `creator` (from a commitCreate job). */
  commit?: Uint8Array;
}

export interface JobResult {
  times: number[];
  /** messages: decrypt times (times are the encrypt ones); commitProcess: persist times. */
  times2?: number[];
  commit?: Uint8Array;
  bytes?: number;
  /** commitProcess: what the save after the commit writes (epoch and ratchet parts, new tree pieces). */
  written?: number;
}

const crypto = nodeCryptoProvider;
/** Application messages sent and read before the timed ones, and timed (the "messages" job). */
const WARM_UP = 1000;
const MESSAGES = 200;

function post(message: object, then?: () => void): void {
  process.send?.(message, undefined, {}, () => then?.());
}

/** Each time is sent as soon as measured: a job stopped at its deadline keeps the repetitions done. */
function rec(into: number[], series: "times" | "times2", ms: number): void {
  into.push(ms);
  post({ series, ms });
}
const now = () => performance.now();

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

function keyPackageOf(bytes: Uint8Array) {
  const m = decodeMessage(bytes);
  if (!("keyPackage" in m)) throw new Error("not a KeyPackage");
  return m.keyPackage;
}

async function engineJob(engine: MlsEngine, job: Job): Promise<JobResult> {
  // A state as a client's store hands it back: every tree piece it holds (a client that loads its
  // state and saves it after a commit writes the tree's changes only).
  const load = (s: SerializedGroupState): GroupState =>
    engine.deserialize(s.tree ? { ...s, tree: { pieces: s.tree.pieces, held: s.tree.pieces.length } } : s);
  const times: number[] = [];
  // Readies the engine (its suite) outside the timings.
  await engine.inspectKeyPackage(job.lastBatch[0]!);
  switch (job.op) {
    case "commitCreate": {
      let commit: Uint8Array | undefined;
      for (let i = 0; i < job.reps; i++) {
        const s = load(job.creator);
        const [ms, r] = await time(() => engine.commit(s, {}));
        rec(times, "times", ms);
        if (commit === undefined) {
          commit = r.commits[0]!;
          post({ commit, commitBytes: commit.length });
        }
      }
      return { times, ...(commit ? { commit } : {}) };
    }
    case "commitProcess": {
      const persist: number[] = [];
      let bytes = 0;
      let written = 0;
      for (let i = 0; i < job.reps; i++) {
        const s = load(job.member);
        const [ms, r] = await time(() => engine.process(s, job.commit!));
        rec(times, "times", ms);
        // What a client writes after a commit: the serialized state — both parts, and of the tree
        // (stored apart as pieces by our engine) the pieces its store does not hold yet.
        const t = now();
        const out = engine.serialize(r.state);
        rec(persist, "times2", now() - t);
        const pieces = out.tree?.pieces ?? [];
        const treeBytes = pieces.reduce((n, p) => n + p.length, 0);
        const newTreeBytes = pieces.slice(out.tree?.held ?? 0).reduce((n, p) => n + p.length, 0);
        bytes = out.epochPart.length + out.ratchetPart.length + treeBytes;
        written = out.epochPart.length + out.ratchetPart.length + newTreeBytes;
        post({ bytes, written });
      }
      return { times, times2: persist, bytes, written };
    }
    case "join": {
      for (let i = 0; i < job.reps; i++) {
        // A fresh engine: its authentication service has verified none of the members' certificates.
        const joiner = engineOf(job.impl);
        await joiner.inspectKeyPackage(job.lastBatch[0]!);
        const [ms] = await time(() => joiner.joinFromWelcome(job.welcome, job.joiner));
        rec(times, "times", ms);
      }
      return { times };
    }
    case "add100": {
      for (let i = 0; i < job.reps; i++) {
        const s = load(job.beforeLast);
        const [ms] = await time(() => engine.commit(s, { add: job.lastBatch }));
        rec(times, "times", ms);
      }
      return { times };
    }
    case "messages": {
      const dec: number[] = [];
      let sender = load(job.member);
      let receiver = load(job.creator);
      // A member sends and reads messages all day: the first WARM_UP of them (the JIT compiling and then optimizing the
      // message path, measured at 2-4x the steady cost) are not timed, the next MESSAGES are.
      for (let i = 0; i < WARM_UP + MESSAGES; i++) {
        const plaintext = crypto.randomBytes(100);
        const [e, sent] = await time(() => engine.encrypt(sender, plaintext));
        sender = sent.state;
        const [d, got] = await time(() => engine.process(receiver, sent.message));
        receiver = got.state;
        if (i < WARM_UP) continue;
        rec(times, "times", e);
        rec(dec, "times2", d);
      }
      return { times, times2: dec };
    }
  }
}

async function rawJob(job: Job): Promise<JobResult> {
  const engine = new TsMlsEngine(crypto);
  const context: MlsContext = {
    cipherSuite: await getCiphersuiteImpl("MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519"),
    authService: unsafeTestingAuthenticationService,
  };
  const state = (s: SerializedGroupState): ClientState => tsMlsClientStateOf(engine.deserialize(s));
  const times: number[] = [];
  switch (job.op) {
    case "commitCreate": {
      let commit: Uint8Array | undefined;
      for (let i = 0; i < job.reps; i++) {
        const s = state(job.creator);
        const [ms, r] = await time(() => createCommit({ context, state: s }));
        rec(times, "times", ms);
        if (commit === undefined) {
          commit = encode(mlsMessageEncoder, r.commit);
          post({ commit, commitBytes: commit.length });
        }
      }
      return { times, ...(commit ? { commit } : {}) };
    }
    case "commitProcess": {
      const message = decodeMessage(job.commit!) as Parameters<typeof processMessage>[0]["message"];
      const persist: number[] = [];
      let bytes = 0;
      for (let i = 0; i < job.reps; i++) {
        const s = state(job.member);
        const [ms, r] = await time(() => processMessage({ context, state: s, message }));
        rec(times, "times", ms);
        const t = now();
        bytes = encode(clientStateEncoder, r.newState).length;
        post({ bytes });
        rec(persist, "times2", now() - t);
      }
      return { times, times2: persist, bytes };
    }
    case "join": {
      const welcome = decodeMessage(job.welcome);
      if (!("welcome" in welcome)) throw new Error("not a Welcome");
      const privateKeys = privateKeyPackageDecoder(job.joiner.privateKey, 0)![0];
      const keyPackage = keyPackageOf(job.joiner.publicMessage);
      for (let i = 0; i < job.reps; i++) {
        const [ms] = await time(() =>
          joinGroup({ context, welcome: welcome.welcome, keyPackage, privateKeys }),
        );
        rec(times, "times", ms);
      }
      return { times };
    }
    case "add100": {
      const adds = job.lastBatch.map((kp) => ({
        proposalType: defaultProposalTypes.add,
        add: { keyPackage: keyPackageOf(kp) },
      }));
      for (let i = 0; i < job.reps; i++) {
        const s = state(job.beforeLast);
        const [ms] = await time(() =>
          createCommit({ context, state: s, extraProposals: adds, ratchetTreeExtension: true }),
        );
        rec(times, "times", ms);
      }
      return { times };
    }
    case "messages": {
      const dec: number[] = [];
      let sender = state(job.member);
      let receiver = state(job.creator);
      for (let i = 0; i < WARM_UP + MESSAGES; i++) {
        const message = crypto.randomBytes(100);
        const [e, sent] = await time(() => createApplicationMessage({ context, state: sender, message }));
        sender = sent.newState;
        const [d, got] = await time(() =>
          processMessage({ context, state: receiver, message: sent.message }),
        );
        receiver = got.newState;
        if (i < WARM_UP) continue;
        rec(times, "times", e);
        rec(dec, "times2", d);
      }
      return { times, times2: dec };
    }
  }
}

export function runJob(job: Job): Promise<JobResult> {
  if (job.impl === "ts-mls") return rawJob(job);
  return engineJob(engineOf(job.impl), job);
}

// Run as a child process (fork with advanced serialization): the job arrives as the first message.
if (process.send !== undefined) {
  process.once("message", (job: Job) => {
    runJob(job).then(
      () => post({ done: true }, () => process.exit(0)),
      (e: unknown) => post({ error: String((e as Error)?.stack ?? e) }, () => process.exit(1)),
    );
  });
}
