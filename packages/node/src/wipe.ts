/**
 * `parley wipe` (issue 13): destroys a profile folder, key material first. Every value in the store
 * is overwritten in place with random bytes of its length (one transaction, checkpointed into the
 * database file), then deleted (secure_delete zeroes the freed pages), then the files themselves are
 * overwritten with zeros, synced, and removed. What this cannot reach: copies the filesystem or the
 * disk keeps elsewhere (journaling and copy-on-write filesystems, SSD wear levelling, backups) —
 * the passphrase (passphrase.ts) is what protects those.
 */
import { randomBytes } from "node:crypto";
import {
  closeSync,
  existsSync,
  fstatSync,
  fsyncSync,
  openSync,
  readdirSync,
  rmdirSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { openStore, PROFILE_DATABASE, RELAYS_FILE } from "./profile.js";

/** What `wipe` removed: the values overwritten, the files destroyed. */
export interface Wiped {
  values: number;
  files: string[];
}

export async function wipeProfile(home: string): Promise<Wiped> {
  const store = openStore(home);
  let values = 0;
  try {
    const all = await store.list("");
    values = all.length;
    // text: null also takes each message's words out of the search index (FTS5 secure-delete).
    await store.write(
      all.map(([key, value]) => ({ key, value: new Uint8Array(randomBytes(value.length)), text: null })),
    );
    await store.write(all.map(([key]) => ({ key, value: null })));
  } finally {
    await store.close(); // checkpoints the log into the database file and empties it
  }
  const files: string[] = [];
  for (const name of [
    PROFILE_DATABASE,
    `${PROFILE_DATABASE}-wal`,
    `${PROFILE_DATABASE}-shm`,
    RELAYS_FILE,
    "parley.lock",
    "parley.outbox.lock",
  ]) {
    const path = join(home, name);
    if (!existsSync(path)) continue;
    overwriteWithZeros(path);
    unlinkSync(path);
    files.push(name);
  }
  if (readdirSync(home).length === 0) rmdirSync(home);
  return { values, files };
}

function overwriteWithZeros(path: string): void {
  const fd = openSync(path, "r+");
  try {
    const size = fstatSync(fd).size;
    const zeros = new Uint8Array(Math.min(size, 1 << 20));
    for (let at = 0; at < size; at += zeros.length)
      writeSync(fd, zeros, 0, Math.min(zeros.length, size - at), at);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
