/** Opens a profile folder: its SQLite store, its lock, and a client engine wired to Node. */
import { chmodSync, lstatSync, mkdirSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { ParleyClient, ParleyError, Rfc9420Engine, type WebSocketLike } from "@parley/core";
import { nodeCryptoProvider } from "@parley/core/node";
import WebSocket from "ws";
import { FileLock } from "./file-lock.js";
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
 * The folder holds secret keys in the clear (the CLI's store is not passphrase-encrypted): it is
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
  const crypto = nodeCryptoProvider;
  const client = new ParleyClient({
    store,
    crypto,
    engine: new Rfc9420Engine(crypto),
    lock: new FileLock(join(home, "parley.lock")),
    webSocket: (url) => new WebSocket(url, { maxPayload: 16 * 1024 * 1024 }) as unknown as WebSocketLike,
  });
  return { client, close: () => store.close() };
}
