/**
 * The local schema version and its numbered migrations. Version 1 is the layout before versions
 * (a profile without a `schema` key); each migration takes a profile from version n-1 to n in one
 * atomic batch, under the profile lock, so a crash leaves a profile at one version or the next.
 */
import type { CryptoProvider } from "../crypto/provider.js";
import { fromBase64Url } from "../encoding/base64url.js";
import { fromUtf8, utf8 } from "../encoding/bytes.js";
import { ParleyError } from "../errors.js";
import type { SerializedGroupState } from "../mls/engine.js";
import { Rfc9420Engine } from "../mls/rfc9420-engine/engine.js";
import { storedCipherSuite } from "../mls/rfc9420-engine/state.js";
import type { KeyValueStore } from "../storage/key-value-store.js";
import { Batch, unjson } from "./batch.js";
import { Keys, SCHEMA_VERSION } from "./keys.js";
import type {
  AfterMigrationRecord,
  ContactKeyPackage,
  ConversationRecord,
  GroupConversationRecord,
  GroupStatus,
  MessageRecord,
} from "./records.js";
import { searchableText } from "./repository.js";

/** Migration 4's converter of TsMlsEngine's group states (src/ts-mls.ts, from-ts-mls.ts). */
export type TsMlsConverter = Pick<
  typeof import("../mls/rfc9420-engine/from-ts-mls.js"),
  "isTsMlsState" | "convertTsMlsState"
>;

/**
 * The converter is loaded by the name of its package entry, held in a variable: bundlers (Vite for
 * the web app, rolldown for the CLI) then leave the import to run time rather than pull ts-mls, a
 * development dependency, into the product. Node resolves the name (the package refers to itself,
 * or the CLI to its dependency) when ts-mls is installed; without it (an install without development
 * dependencies, a browser) the import fails, and migration 4 gives such groups "needs-readd".
 */
const TS_MLS_ENTRY = "@parley/core/ts-mls";
export const loadTsMlsConverter = (): Promise<TsMlsConverter> =>
  import(/* @vite-ignore */ TS_MLS_ENTRY) as Promise<TsMlsConverter>;

/** What migrations may use besides the store: the profile's crypto provider. */
export interface MigrationEnvironment {
  crypto: CryptoProvider;
  /** How migration 4 loads its converter (default loadTsMlsConverter; tests inject a failing one). */
  loadTsMlsConverter?: () => Promise<TsMlsConverter>;
}

export interface Migration {
  version: number;
  description: string;
  run(kv: KeyValueStore, batch: Batch, env: MigrationEnvironment): Promise<void>;
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
  {
    version: 4,
    description:
      "MLS group states move from TsMlsEngine's format to Rfc9420Engine's; contacts' KeyPackages the " +
      "new engine refuses are dropped, and every contact is given fresh ones at the next sync",
    run: toRfc9420Engine,
  },
  {
    version: 5,
    description: "every message's words are given to the store's search index (KvWrite.text)",
    async run(kv, batch) {
      for (const [key, value] of await kv.list(Keys.allMessages)) {
        const m = unjson<MessageRecord>(value);
        batch.putSearchable(key, m, searchableText(m));
      }
    },
  },
];

/**
 * Version 4: the product's MLS engine becomes Rfc9420Engine (docs/protocol.md).
 *
 * - Every conversation's group state written by TsMlsEngine is converted (convertTsMlsState: same
 *   epoch, tree, secrets and ratchet positions; earlier epochs are dropped, so a late message of an
 *   epoch before the migration no longer opens). States already in Rfc9420Engine's format are left.
 * - A group whose state cannot be converted (TsMlsEngine marked it "exposed": a removal committed
 *   without a path whose repair commit had not arrived) becomes "needs-readd" with the reason: its
 *   keys are deleted (nothing could use them: sending in that epoch would reach the removed member),
 *   its history stays, and an admin can re-add this device (the re-join path of group-invite).
 * - KeyPackages: our own (private halves of those we gave out) are kept, since Rfc9420Engine opens
 *   TsMlsEngine's bundle format, so a contact may still add us with one. Contacts' KeyPackages that
 *   Rfc9420Engine refuses (older TsMlsEngine versions put GREASE extensions outside the leaf's
 *   capabilities, RFC 9420 §13.5) are dropped, and every contact is sent fresh KeyPackages at the
 *   next sync (Keys.afterMigration), to replace the ones they drop of ours in the same way.
 *
 * The converter (and the ts-mls code it reads with) is loaded only when a profile has group states.
 * Where it cannot be loaded (ts-mls not installed), a state in TsMlsEngine's format cannot be read:
 * such a group becomes "needs-readd" as above, with the reason; a 1:1 conversation's is left as it was.
 */
async function toRfc9420Engine(kv: KeyValueStore, batch: Batch, env: MigrationEnvironment): Promise<void> {
  const conversations = (await kv.list(Keys.conversations)).map(([, v]) => unjson<ConversationRecord>(v));
  const after: AfterMigrationRecord = { keyPackages: [], needsReadd: [] };
  const unconverted = new Set<string>();
  let converter: Promise<TsMlsConverter | Error> | undefined;
  for (const c of conversations) {
    const state = await groupStateOf(kv, c.groupId);
    if (state === undefined) continue; // left, removed: no keys
    if (isRfc9420State(state)) continue;
    converter ??= (env.loadTsMlsConverter ?? loadTsMlsConverter)().catch(
      (e: unknown) =>
        new Error(`ts-mls is not installed, the state cannot be read (${(e as Error).message})`),
    );
    const loaded = await converter;
    if (!(loaded instanceof Error) && !loaded.isTsMlsState(state)) continue;
    let converted: SerializedGroupState;
    try {
      if (loaded instanceof Error) throw loaded;
      converted = await loaded.convertTsMlsState(env.crypto, state);
    } catch (e) {
      if (c.kind !== "group") {
        // A 1:1 conversation has no removals, so it is never exposed; a state the converter
        // refuses otherwise is damaged. Left as it was (the conversation reports the error it
        // gives), and given no KeyPackages below: they would go through it.
        unconverted.add(c.id);
        continue;
      }
      const next: GroupConversationRecord = {
        ...c,
        status: "needs-readd",
        statusReason: (e as Error).message,
      };
      batch.put(Keys.conversation(c.id), next);
      batch.delete(Keys.mlsEpoch(c.groupId)).delete(Keys.mlsEpochPart(c.groupId));
      batch.delete(Keys.mlsRatchetPart(c.groupId));
      after.needsReadd.push(c.id);
      continue;
    }
    batch.putBytes(Keys.mlsEpoch(c.groupId), utf8(converted.epoch.toString()));
    batch.putBytes(Keys.mlsEpochPart(c.groupId), converted.epochPart);
    batch.putBytes(Keys.mlsRatchetPart(c.groupId), converted.ratchetPart);
    // Rfc9420Engine stores the tree apart (mls/engine.ts TreePieces); a converted state's is new.
    for (const [i, piece] of (converted.tree?.pieces ?? []).entries())
      batch.putBytes(Keys.mlsTreePiece(c.groupId, i), piece);
  }
  const engine = new Rfc9420Engine(env.crypto);
  for (const [key, value] of await kv.list(Keys.everyTheirKeyPackage)) {
    const { keyPackage } = unjson<ContactKeyPackage>(value);
    const ok = await engine.inspectKeyPackage(fromBase64Url(keyPackage)).then(
      () => true,
      () => false,
    );
    if (!ok) batch.delete(key);
  }
  for (const c of conversations)
    if (c.kind === "direct" && c.sendTo && !unconverted.has(c.id)) after.keyPackages.push(c.id);
  if (after.keyPackages.length > 0 || after.needsReadd.length > 0) batch.put(Keys.afterMigration, after);
}

/** Whether a stored state is already in Rfc9420Engine's format (its epoch part's header reads). */
function isRfc9420State(state: SerializedGroupState): boolean {
  try {
    storedCipherSuite(state.epochPart);
    return true;
  } catch {
    return false;
  }
}

async function groupStateOf(kv: KeyValueStore, groupId: string): Promise<SerializedGroupState | undefined> {
  const [epoch, epochPart, ratchetPart] = await Promise.all([
    kv.get(Keys.mlsEpoch(groupId)),
    kv.get(Keys.mlsEpochPart(groupId)),
    kv.get(Keys.mlsRatchetPart(groupId)),
  ]);
  if (!epoch || !epochPart || !ratchetPart) return undefined;
  return { epoch: BigInt(fromUtf8(epoch)), epochPart, ratchetPart };
}

/**
 * Brings a profile's layout to SCHEMA_VERSION. An empty store (no profile yet) is stamped with the
 * current version. Returns the version the profile was at. Call under the profile lock.
 */
export async function migrate(
  kv: KeyValueStore,
  env: MigrationEnvironment,
  migrations = MIGRATIONS,
): Promise<number> {
  const raw = await kv.get(Keys.schema);
  const hasProfile = (await kv.get(Keys.profile)) !== undefined;
  const from = raw ? unjson<{ version: number }>(raw).version : hasProfile ? 1 : SCHEMA_VERSION;
  if (from > SCHEMA_VERSION) {
    throw new ParleyError("profile_too_new", { version: from, supported: SCHEMA_VERSION });
  }
  for (const m of migrations) {
    if (m.version <= from) continue;
    const batch = new Batch();
    await m.run(kv, batch, env);
    batch.put(Keys.schema, { version: m.version });
    await kv.write(batch.writes);
  }
  if (!raw && from === SCHEMA_VERSION)
    await kv.write(new Batch().put(Keys.schema, { version: SCHEMA_VERSION }).writes);
  return from;
}
