/** Opens the profile folder: its SQLite store, its lock, and a client engine wired to Node. */
import { mkdirSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { ParleyClient, TsMlsEngine, type WebSocketLike } from "@parley/core";
import { nodeCryptoProvider } from "@parley/core/node";
import WebSocket from "ws";
import { FileLock } from "./storage/file-lock.js";
import { SqliteKeyValueStore } from "./storage/sqlite-kv-store.js";

export function resolveHome(option: string | undefined): string {
  return resolve(option ?? process.env.PARLEY_HOME ?? join(homedir(), ".parley"));
}

export interface OpenProfile {
  client: ParleyClient;
  close(): Promise<void>;
}

export function openProfile(home: string): OpenProfile {
  mkdirSync(home, { recursive: true, mode: 0o700 });
  const store = new SqliteKeyValueStore(join(home, "parley.sqlite"));
  const crypto = nodeCryptoProvider;
  const client = new ParleyClient({
    store,
    crypto,
    engine: new TsMlsEngine(crypto),
    lock: new FileLock(join(home, "parley.lock")),
    webSocket: (url) => new WebSocket(url, { maxPayload: 16 * 1024 * 1024 }) as unknown as WebSocketLike,
  });
  return { client, close: () => store.close() };
}
