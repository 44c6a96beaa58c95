/**
 * Grows a group to N members the way real groups grow, through the MlsEngine seam only: three admins
 * take turns adding batches; after each batch one newcomer joins from the Welcome and updates its keys,
 * another admin removes three members (leaving blanks that later adds fill, §12.1.1), and the third
 * commits an update. Every commit is processed by the three admins and one plain member, whose states
 * are the ones measured. The last 100 members come in one batch from the creator, so the state before
 * it, the batch and its Welcome serve the add-100 and join measurements.
 */
import type {
  GroupState,
  KeyPackageBundle,
  MlsEngine,
  NewIdentity,
  SerializedGroupState,
} from "@parley/core";

export const LAST_BATCH = 100;
const ROUNDS = 8;
const REMOVALS = 3;

export interface Built {
  /** The creator's and a member's states after the last batch. */
  creator: SerializedGroupState;
  member: SerializedGroupState;
  /** The creator's state before the last batch. */
  beforeLast: SerializedGroupState;
  lastBatch: Uint8Array[];
  welcome: Uint8Array;
  joiner: KeyPackageBundle;
  buildMs: number;
  /** What happened, in order: "A+1225", "u", "B-3", "C~"… */
  history: string[];
  commitFallback?: Uint8Array;
}

export async function grow(
  engine: MlsEngine,
  n: number,
  people: NewIdentity[],
  deadlineMs: number,
  log: (...a: unknown[]) => void,
): Promise<Built> {
  const t0 = performance.now();
  const history: string[] = [];
  const check = () => {
    if (performance.now() - t0 > deadlineMs) throw new Error(`growing over ${deadlineMs / 1000} s`);
  };
  let next = 0;
  const newcomers = async (k: number) => {
    const out: KeyPackageBundle[] = [];
    for (let i = 0; i < k; i++) out.push(await engine.createKeyPackage(people[next++]!.device));
    return out;
  };
  const [first] = await newcomers(1);
  // tracked[0..2]: admins A, B, C; tracked[3]: a plain member M.
  const tracked: GroupState[] = [
    await engine.createGroup(crypto.getRandomValues(new Uint8Array(16)), people[0]!.device, first!),
  ];
  let count = 1;
  /** `by` commits; everyone else tracked processes its commits. */
  const commitBy = async (by: number, changes: Parameters<MlsEngine["commit"]>[1], tag: string) => {
    const r = await engine.commit(tracked[by]!, changes);
    tracked[by] = r.state;
    for (let i = 0; i < tracked.length; i++) {
      if (i === by) continue;
      for (const c of r.commits) tracked[i] = (await engine.process(tracked[i]!, c)).state;
    }
    history.push(tag);
    check();
    return r;
  };
  const trio = await newcomers(3);
  const r0 = await commitBy(0, { add: trio.map((k) => k.publicMessage) }, "A+3");
  for (const kp of trio) tracked.push(await engine.joinFromWelcome(r0.welcome!, kp));
  count += 3;

  const target = n - LAST_BATCH;
  for (let round = 0; round < ROUNDS && count < target; round++) {
    const admin = round % 3;
    const size = Math.ceil((target - count) / (ROUNDS - round)) + (round < ROUNDS - 1 ? REMOVALS : 0);
    const t = performance.now();
    const batch = await newcomers(Math.min(size, target - count + (round < ROUNDS - 1 ? REMOVALS : 0)));
    const added = await commitBy(
      admin,
      { add: batch.map((k) => k.publicMessage) },
      `${"ABC"[admin]}+${batch.length}`,
    );
    count += batch.length;
    // A newcomer joins and at once rotates its keys (a path from a fresh leaf). ts-mls refuses some
    // valid trees on joining (it wants an unmerged leaf listed, with an equal list, by every parent
    // above it, where RFC 9420 §12.4.3.1 asks it only of those between the leaf and the node that
    // lists it; core's mls-engine-differential test pins this): then the step is skipped and history
    // says "u!".
    let newcomer: GroupState | undefined;
    try {
      newcomer = await engine.joinFromWelcome(added.welcome!, batch[Math.floor(batch.length / 2)]!);
    } catch (e) {
      log(`N=${n}: a newcomer cannot join: ${e}`);
      history.push("u!");
    }
    if (newcomer !== undefined) {
      const up = await engine.updateKeys(newcomer);
      for (let i = 0; i < tracked.length; i++)
        tracked[i] = (await engine.process(tracked[i]!, up.commit)).state;
      history.push("u");
    }
    if (round < ROUNDS - 1) {
      const keep = new Set(tracked.map((s) => engine.ownLeafIndex(s)));
      const leaves = engine
        .members(tracked[0]!)
        .map((m) => m.leafIndex)
        .filter((l) => !keep.has(l));
      const gone: number[] = [];
      while (gone.length < REMOVALS) {
        const l = leaves[Math.floor(Math.random() * leaves.length)]!;
        if (!gone.includes(l)) gone.push(l);
      }
      await commitBy((admin + 1) % 3, { remove: gone }, `${"ABC"[(admin + 1) % 3]}-${REMOVALS}`);
      count -= REMOVALS;
      await commitBy((admin + 2) % 3, {}, `${"ABC"[(admin + 2) % 3]}~`);
    }
    log(`N=${n}: round ${round}: ${count} members (${Math.round(performance.now() - t)} ms)`);
  }
  const beforeLast = engine.serialize(tracked[0]!);
  const last = await newcomers(LAST_BATCH);
  const lastBatch = last.map((k) => k.publicMessage);
  const r = await commitBy(0, { add: lastBatch }, `A+${LAST_BATCH}`);
  count += LAST_BATCH;
  if (engine.members(tracked[0]!).length !== count) throw new Error("member count disagrees");
  return {
    creator: engine.serialize(tracked[0]!),
    member: engine.serialize(tracked[3]!),
    beforeLast,
    lastBatch,
    welcome: r.welcome!,
    joiner: last[last.length - 1]!,
    buildMs: performance.now() - t0,
    history,
  };
}
