/** What one device holds of a group, read from its store: to compare members' views in tests. */
import assert from "node:assert/strict";
import { toHex } from "../../src/encoding/bytes.js";
import type { MemoryKeyValueStore } from "../../src/storage/memory-store.js";
import { groupSents, pendingCommit } from "../../src/store/group-order.js";
import { b64, ProfileRepository } from "../../src/store/repository.js";
import { engine } from "./people.js";

export interface GroupView {
  epoch: bigint;
  /** Identity keys of the members, sorted. */
  members: string[];
  /** An MLS exporter secret of the epoch: equal only for members in the very same epoch. */
  authenticator: string;
  name: string;
}

/**
 * The device's view of its group named `name` (or with this id; without either, its one group);
 * undefined once it has no state (left, removed).
 */
export async function groupView(store: MemoryKeyValueStore, name?: string): Promise<GroupView | undefined> {
  const repo = new ProfileRepository(store);
  const conversation = (await repo.conversations()).find(
    (c) => c.kind === "group" && (name === undefined || c.name === name || c.id === name),
  );
  if (conversation?.kind !== "group") return undefined;
  const serialized = await repo.groupState(conversation.groupId);
  if (!serialized) return undefined;
  const state = engine.deserialize(serialized);
  const secret = await engine.exportSecret(state, "parley test authenticator", new Uint8Array(), 16);
  return {
    epoch: state.epoch,
    members: [...new Set(engine.members(state).map((m) => b64(m.identityKey)))].sort(),
    authenticator: toHex(secret),
    name: conversation.name,
  };
}

/** Every one of `people` holds group `group` (or its one group) in the same epoch, with the same members and secrets. */
export async function assertConverged(
  people: { store: MemoryKeyValueStore }[],
  group?: string,
): Promise<GroupView> {
  const views = await Promise.all(people.map((p) => groupView(p.store, group)));
  const [first] = views;
  assert.ok(first, "the first has the group");
  for (const [i, v] of views.entries()) {
    assert.ok(v, `member ${i} has the group`);
    assert.equal(v.epoch, first.epoch, `member ${i}: same epoch`);
    assert.deepEqual(v.members, first.members, `member ${i}: same members`);
    assert.equal(v.authenticator, first.authenticator, `member ${i}: same epoch secrets`);
  }
  return first;
}

/**
 * What a device's store says about its group beyond the view, in one line: its conversation's
 * status, whether it holds state, a change of its own waiting for its epoch, messages waiting for
 * their echo. For the soak test's report when members disagree.
 */
export async function groupDiagnostics(store: MemoryKeyValueStore): Promise<string> {
  const repo = new ProfileRepository(store);
  const groups = (await repo.conversations()).filter((c) => c.kind === "group");
  if (groups.length === 0) return "no group conversation";
  const parts: string[] = [];
  for (const c of groups) {
    if (c.kind !== "group") continue;
    const serialized = await repo.groupState(c.groupId);
    const pending = await pendingCommit(repo, c.id);
    const sents = await groupSents(repo, c.id);
    parts.push(
      [
        `status ${c.status}${c.statusReason ? ` (${c.statusReason})` : ""}`,
        serialized ? `state at epoch ${serialized.epoch}` : "no state",
        pending
          ? `pending commit ${pending.status} base ${pending.baseEpoch} redone ${pending.redone} intent ${JSON.stringify(
              { ...pending.intent, add: pending.intent.add?.map((a) => a.contactId) },
            )}${pending.next ? " with more waiting" : ""}`
          : "no pending commit",
        `${sents.length} sent awaiting echo`,
        `queue ${c.receive.queueId.slice(0, 8)} (+${c.previousQueues.length} previous)`,
      ].join(", "),
    );
  }
  return parts.join(" | ");
}
