/** Opens a profile folder: its SQLite store, its lock, and a client engine wired to Node. */
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import {
  type KeyValueStore,
  ParleyClient,
  ParleyError,
  Rfc9420Engine,
  type WebSocketLike,
} from "@parley/core";
import { nodeCryptoProvider } from "@parley/core/node";
import WebSocket from "ws";
import { FileLock } from "./file-lock.js";
import { nodeFetch } from "./files.js";
import { isEncrypted, unlockStore } from "./passphrase.js";
import { SqliteKeyValueStore } from "./sqlite-kv-store.js";

export function resolveHome(option: string | undefined): string {
  return resolve(option ?? process.env.PARLEY_HOME ?? join(homedir(), ".parley"));
}

export interface OpenProfile {
  client: ParleyClient;
  close(): Promise<void>;
}

/** The profile database: identity and device secret keys, queue keys, messages and MLS state. */
export const PROFILE_DATABASE = "parley.sqlite";
/**
 * Optional, beside the profile: relays served by several nodes, as JSON
 * `{"https://relay.example": ["https://relay2.example", "https://relay3.example"]}` — for each relay
 * URL (as the profile and queues name it), its other nodes, which requests and WebSockets fail over to.
 */
export const RELAYS_FILE = "relays.json";

/** The other nodes of each relay, from `<home>/relays.json` (none when there is no such file). */
export function readRelayAlternates(home: string): Record<string, string[]> {
  const path = join(home, RELAYS_FILE);
  if (!existsSync(path)) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new ParleyError("bad_profile", {
      path,
      problem: "unreadable_relays_file",
      cause: (e as Error).message,
    });
  }
  const ok =
    typeof parsed === "object" &&
    parsed !== null &&
    !Array.isArray(parsed) &&
    Object.values(parsed).every((v) => Array.isArray(v) && v.every((u) => typeof u === "string"));
  if (!ok) {
    throw new ParleyError("bad_profile", {
      path,
      problem: "unreadable_relays_file",
      cause: 'expected {"<relay URL>": ["<other node URL>", …]}',
    });
  }
  // Keys as the client names relays (no trailing slash).
  return Object.fromEntries(
    Object.entries(parsed as Record<string, string[]>).map(([k, v]) => [k.replace(/\/+$/, ""), v]),
  );
}

/**
 * The folder holds secret keys (in the clear unless a passphrase is set, passphrase.ts): it is
 * made private to its owner, 0700, whether it is new or was already there, and every file created
 * in it is 0600 (the umask covers SQLite's -wal and -shm files and the lock file as they appear).
 */
function preparePrivateFolder(home: string): void {
  let stat: ReturnType<typeof lstatSync> | undefined;
  try {
    stat = lstatSync(home);
  } catch {
    stat = undefined;
  }
  if (stat && !stat.isDirectory()) {
    throw new ParleyError("bad_profile", { path: home, problem: "not_a_folder" });
  }
  try {
    if (!stat) mkdirSync(home, { recursive: true, mode: 0o700 });
    chmodSync(home, 0o700);
  } catch (e) {
    throw new ParleyError("bad_profile", {
      path: home,
      problem: "unusable_folder",
      cause: (e as NodeJS.ErrnoException).code ?? (e as Error).message,
    });
  }
  process.umask(0o077);
}

export function openProfile(home: string): OpenProfile {
  const store = openStore(home);
  return clientFor(home, store);
}

/**
 * The profile, unlocked first if it is sealed under a passphrase (passphrase.ts): `passphrase` is
 * asked only then. A wrong one fails ("wrong_passphrase") before anything is read.
 */
export async function openProfileUnlocked(
  home: string,
  passphrase: () => Promise<string>,
): Promise<OpenProfile> {
  const store = openStore(home);
  try {
    if (!(await isEncrypted(store))) return clientFor(home, store);
    return clientFor(home, await unlockStore(store, await passphrase()));
  } catch (e) {
    await store.close();
    throw e;
  }
}

/** The profile folder's SQLite store, the folder made private first. */
export function openStore(home: string): SqliteKeyValueStore {
  preparePrivateFolder(home);
  const path = join(home, PROFILE_DATABASE);
  let store: SqliteKeyValueStore;
  try {
    store = new SqliteKeyValueStore(path);
  } catch (e) {
    throw new ParleyError("bad_profile", {
      path,
      problem: "unreadable_database",
      cause: (e as { code?: string }).code ?? "error",
    });
  }
  for (const suffix of ["", "-wal", "-shm"]) {
    try {
      chmodSync(path + suffix, 0o600); // files made by an earlier version or another umask
    } catch {
      // -wal / -shm exist only while the database is open in WAL mode
    }
  }
  return store;
}

function clientFor(home: string, store: KeyValueStore): OpenProfile {
  const crypto = nodeCryptoProvider;
  const client = new ParleyClient({
    store,
    crypto,
    engine: new Rfc9420Engine(crypto),
    lock: new FileLock(join(home, "parley.lock")),
    outboxLock: new FileLock(join(home, "parley.outbox.lock")),
    relayAlternates: readRelayAlternates(home),
    fetch: nodeFetch,
    webSocket: (url) => new WebSocket(url, { maxPayload: 16 * 1024 * 1024 }) as unknown as WebSocketLike,
  });
  return {
    client,
    close: async () => {
      await client.release().catch(() => {}); // a profile never made, a busy lock: nothing to hand back
      await store.close();
    },
  };
}
