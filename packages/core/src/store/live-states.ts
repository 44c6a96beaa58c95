/**
 * Group states kept decoded between operations. Every message received or sent in a group loads
 * its MLS state, uses it and saves the result; decoding the stored state each time costs O(members)
 * (the ratchet tree, megabytes at thousands of members), so in a large group a member catching up on
 * its backlog spent most of its time loading the state it had just saved. A state saved by a batch
 * that landed is kept here, and the next load takes it back instead of decoding the store's copy.
 *
 * The store stays the truth: a load takes a kept state only when the stored epoch and ratchet part
 * are exactly what that save wrote. Another process on the same profile (a CLI command beside a
 * running `listen`) that saved since has rewritten the ratchet part — every save does, and it holds
 * the secret trees, which no two states of a group share — so the kept state is passed over and
 * the stored one decoded. A state an operation has used is never handed out again (MlsEngine.usable):
 * the engine erased what it used, and only the state the operation returned goes on — kept once a
 * batch holding it lands. A state decoded from the store is kept too (a send reads the group's
 * metadata, then seals with the same state).
 */
import { equalBytes } from "../encoding/bytes.js";
import type { GroupState, MlsEngine } from "../mls/engine.js";

interface Kept {
  state: GroupState;
  epoch: bigint;
  ratchetPart: Uint8Array;
}

export class LiveGroupStates {
  private readonly kept = new Map<string, Kept>();

  /** `state` is stored as `ratchetPart` at `epoch` (saved by a batch that landed, or just loaded). */
  keep(groupId: string, state: GroupState, epoch: bigint, ratchetPart: Uint8Array): void {
    this.kept.set(groupId, { state, epoch, ratchetPart });
  }

  /**
   * The kept state, if the store still holds what it was kept as and no operation has used it (the
   * engine erased what that operation used; the state it returned is kept once saved).
   */
  get(
    engine: MlsEngine,
    groupId: string,
    stored: { epoch: bigint; ratchetPart: Uint8Array },
  ): GroupState | undefined {
    const k = this.kept.get(groupId);
    if (k === undefined) return undefined;
    if (k.epoch === stored.epoch && equalBytes(k.ratchetPart, stored.ratchetPart) && engine.usable(k.state))
      return k.state;
    this.kept.delete(groupId);
    return undefined;
  }

  forget(groupId: string): void {
    this.kept.delete(groupId);
  }

  /** How many states are kept (for tests: a group left keeps none). */
  get size(): number {
    return this.kept.size;
  }
}
