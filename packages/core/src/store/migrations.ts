/**
 * The local schema version and its numbered migrations. Version 1 is the layout before versions
 * (a profile without a `schema` key); each migration takes a profile from version n-1 to n in one
 * atomic batch, under the profile lock, so a crash leaves a profile at one version or the next.
 */
import { ParleyError } from "../errors.js";
import type { KeyValueStore } from "../storage/key-value-store.js";
import { Batch, unjson } from "./batch.js";
import { Keys, SCHEMA_VERSION } from "./keys.js";
import type { ConversationRecord, GroupStatus } from "./records.js";

export interface Migration {
  version: number;
  description: string;
  run(kv: KeyValueStore, batch: Batch): Promise<void>;
}

/** A conversation as version 1 stored it: one bag of optionals for both kinds. */
interface ConversationV1 {
  id: string;
  kind: "direct" | "group";
  groupId: string;
  receive: ConversationRecord["receive"];
  sendTo: { relay: string; sendId: string } | null;
  contactId: string;
  name?: string;
  admins?: string[];
  cursor?: string;
  previousQueues?: ConversationRecord["receive"][];
  status?: GroupStatus;
  createdAt: number;
}

export const MIGRATIONS: Migration[] = [
  {
    version: 2,
    description: 'conversations become a union of direct and group records (no contactId "" for groups)',
    async run(kv, batch) {
      for (const [key, value] of await kv.list(Keys.conversations)) {
        const c = unjson<ConversationV1>(value);
        const base = { id: c.id, groupId: c.groupId, receive: c.receive, createdAt: c.createdAt };
        const next: ConversationRecord =
          c.kind === "direct"
            ? { ...base, kind: "direct", contactId: c.contactId, sendTo: c.sendTo }
            : {
                ...base,
                kind: "group",
                sendTo: c.sendTo ?? { relay: c.receive.relay, sendId: c.receive.sendId },
                name: c.name ?? "Group",
                admins: c.admins ?? [],
                previousQueues: c.previousQueues ?? [],
                status: c.status ?? "active",
              };
        batch.put(key, next);
      }
    },
  },
  {
    version: 3,
    description: "group members' identity and device keys move out of store keys into encrypted values",
    async run(kv, batch) {
      const names = new Map<string, Record<string, string>>();
      for (const [key, value] of await kv.list(Keys.legacy.memberNames)) {
        const [conversationId, identityKey] = key.slice(Keys.legacy.memberNames.length).split("/");
        if (conversationId && identityKey) {
          const map = names.get(conversationId) ?? {};
          map[identityKey] = unjson<string>(value);
          names.set(conversationId, map);
        }
        batch.delete(key);
      }
      for (const [conversationId, map] of names) batch.put(Keys.memberNames(conversationId), map);
      // Ratchet marks were keyed by device key; they are only a gap detector's last position, so
      // they are dropped, not converted: the next message from each device sets a fresh mark.
      for (const [key] of await kv.list(Keys.legacy.ratchetSeen)) batch.delete(key);
    },
  },
];

/**
 * Brings a profile's layout to SCHEMA_VERSION. An empty store (no profile yet) is stamped with the
 * current version. Returns the version the profile was at. Call under the profile lock.
 */
export async function migrate(kv: KeyValueStore, migrations = MIGRATIONS): Promise<number> {
  const raw = await kv.get(Keys.schema);
  const hasProfile = (await kv.get(Keys.profile)) !== undefined;
  const from = raw ? unjson<{ version: number }>(raw).version : hasProfile ? 1 : SCHEMA_VERSION;
  if (from > SCHEMA_VERSION) {
    throw new ParleyError("profile_too_new", { version: from, supported: SCHEMA_VERSION });
  }
  for (const m of migrations) {
    if (m.version <= from) continue;
    const batch = new Batch();
    await m.run(kv, batch);
    batch.put(Keys.schema, { version: m.version });
    await kv.write(batch.writes);
  }
  if (!raw && from === SCHEMA_VERSION)
    await kv.write(new Batch().put(Keys.schema, { version: SCHEMA_VERSION }).writes);
  return from;
}
