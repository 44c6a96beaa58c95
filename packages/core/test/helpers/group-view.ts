/** What one device holds of a group, read from its store: to compare members' views in tests. */
import { toHex } from "../../src/encoding/bytes.js";
import type { MemoryKeyValueStore } from "../../src/storage/memory-store.js";
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
