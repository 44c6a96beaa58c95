/**
 * The CLI profile encrypted at rest under a passphrase (issue 13), with core's EncryptedKeyValueStore
 * over the SQLite store: every value sealed under a key derived with Argon2id (the same KDF and
 * parameters as the web app's store), keys in the clear (random ids only, store/keys.ts).
 *
 * Turning it on, changing it and turning it off rewrite every value in ONE SQLite transaction (the
 * writes are staged, then committed together), so a crash leaves the profile all in one form; with
 * secure_delete on, the old forms of the values are overwritten on disk, not left in free pages.
 * The search index moves with them: in the clear it is SQLite's (search_doc, FTS5), sealed it is
 * the encrypted store's (`!text/…` entries); each message's words are recomputed from the message.
 */
import {
  ENCRYPTED_STORE_META_KEY,
  EncryptedKeyValueStore,
  fromUtf8,
  type KdfParams,
  Keys,
  type KeyValueStore,
  type KvWrite,
  type MessageRecord,
  type PassphraseKdf,
  searchableText,
} from "@parley/core";
import { nodeCryptoProvider } from "@parley/core/node";
import { argon2id } from "hash-wasm";

export const argon2idKdf: PassphraseKdf = {
  algorithm: "argon2id",
  derive: (passphrase: string, salt: Uint8Array, params: KdfParams) =>
    argon2id({
      // The same passphrase typed on another keyboard or OS may arrive in another Unicode form.
      password: passphrase.normalize("NFC"),
      salt,
      parallelism: params.parallelism,
      iterations: params.iterations,
      memorySize: params.memoryKiB,
      hashLength: 32,
      outputType: "binary",
    }),
};

/** Is this store sealed under a passphrase? */
export const isEncrypted = (store: KeyValueStore): Promise<boolean> => EncryptedKeyValueStore.exists(store);

/** Opens a sealed store with its passphrase ("wrong_passphrase" before anything is read). */
export const unlockStore = (store: KeyValueStore, passphrase: string): Promise<EncryptedKeyValueStore> =>
  EncryptedKeyValueStore.unlock(store, nodeCryptoProvider, argon2idKdf, passphrase);

/**
 * Reads through to `inner` and keeps every write for one commit at the end. `fresh`: the store's
 * current passphrase record is hidden, so that a new one can be made over it.
 */
class StagedWrites implements KeyValueStore {
  readonly writes: KvWrite[] = [];
  constructor(
    private readonly inner: KeyValueStore,
    private readonly fresh: boolean,
  ) {}
  async get(key: string) {
    return this.fresh && key === ENCRYPTED_STORE_META_KEY ? undefined : this.inner.get(key);
  }
  list(prefix: string, options?: { limit?: number; reverse?: boolean }) {
    return this.inner.list(prefix, options);
  }
  async write(writes: KvWrite[]) {
    this.writes.push(...writes);
  }
  durable = () => this.inner.durable();
  close = async () => undefined;
}

/** Keys the encrypted store keeps for itself (its passphrase record, sealed search texts). */
const RESERVED = "!";

/** An entry as a write, with its searchable text if it is a message (repository.ts searchableText). */
function asWrite([key, value]: [string, Uint8Array]): KvWrite {
  if (!key.startsWith(Keys.messages(""))) return { key, value };
  try {
    return { key, value, text: searchableText(JSON.parse(fromUtf8(value)) as MessageRecord) };
  } catch {
    return { key, value };
  }
}

/** Every value of a plain store, sealed under a new passphrase, in one write. */
export async function setPassphrase(store: KeyValueStore, passphrase: string, params?: KdfParams) {
  const entries = await store.list("");
  await reseal(store, entries, passphrase, false, params);
}

/** Every value opened with the current passphrase and sealed under a new one (a new salt too). */
export async function changePassphrase(
  store: KeyValueStore,
  current: string,
  next: string,
  params?: KdfParams,
) {
  const entries = await (await unlockStore(store, current)).list("");
  await reseal(store, entries, next, true, params);
}

/** Every value opened and written back in the clear; the passphrase record deleted. */
export async function removePassphrase(store: KeyValueStore, current: string) {
  const entries = await (await unlockStore(store, current)).list("");
  const reserved = (await store.list(RESERVED)).map(([key]) => ({ key, value: null }));
  await store.write([...reserved, ...entries.map(asWrite)]);
}

async function reseal(
  store: KeyValueStore,
  entries: [string, Uint8Array][],
  passphrase: string,
  fresh: boolean,
  params?: KdfParams,
) {
  const staged = new StagedWrites(store, fresh);
  const sealed = await EncryptedKeyValueStore.create(
    staged,
    nodeCryptoProvider,
    argon2idKdf,
    passphrase,
    params,
  );
  await sealed.write(entries.map(asWrite));
  sealed.lock();
  // The old sealed texts go (those of messages are written again); the clear index is emptied.
  const stale = (await store.list(`${RESERVED}text/`)).map(([key]) => ({ key, value: null }));
  const writes = staged.writes.map((w) => (w.key.startsWith(RESERVED) ? w : { ...w, text: null }));
  await store.write([...stale, ...writes]);
}
