/**
 * Encryption at rest for any KeyValueStore backend (IndexedDB in the browser, in principle SQLite).
 *
 * Every value is sealed with the CryptoProvider's `seal` (XChaCha20-Poly1305, random 24-byte nonce)
 * under a 32-byte key derived from the user's passphrase with Argon2id. The value's key string is the
 * AEAD's associated data, so a sealed value cannot be moved to another key (say, one contact's
 * record swapped for another's) without `open` failing.
 *
 * Keys stay in the clear. They hold only random ids (contact, conversation, queue, message and MLS
 * group ids, all random base64url) and, for history, a local receive timestamp used for ordering.
 * So someone who copies the device's store learns how many contacts and messages there are and
 * when messages arrived — never a name, a message, a key or a relay address. Values hold everything
 * else.
 *
 * The KDF is behind `PassphraseKdf` so core stays dependency-light: the web app passes an Argon2id
 * implementation (hash-wasm); tests may pass a cheap stand-in.
 *
 * Under a reserved key the store keeps, in the clear, the KDF salt and parameters and a verifier (a
 * known value sealed under the derived key). Unlocking opens the verifier first, so a wrong
 * passphrase is reported as such ("wrong passphrase") before any data is read. *
 * Search (KvWrite.text): an entry's searchable text is sealed like a value, under the reserved key
 * `!text/<key>` (its own associated data), beside the entry. `search` opens them once per unlock
 * into an in-memory index (storage/text-search.ts), kept up to date by later writes, and forgotten
 * on lock. The clear keys show which entries have text (messages with words, against reactions-
 * only or file-only ones): no more than the message keys show already, give or take.
 */
import type { CryptoProvider } from "../crypto/provider.js";
import { fromBase64Url, toBase64Url } from "../encoding/base64url.js";
import { equalBytes, fromUtf8, utf8 } from "../encoding/bytes.js";
import type { KeyValueStore, KvWrite } from "./key-value-store.js";
import { searchForm, TextIndex } from "./text-search.js";

/** Argon2id cost parameters (RFC 9106 names: m in KiB, t, p). */
export interface KdfParams {
  memoryKiB: number;
  iterations: number;
  parallelism: number;
}

/** Derives a 32-byte key from a passphrase. The web app implements it with hash-wasm's argon2id. */
export interface PassphraseKdf {
  readonly algorithm: "argon2id";
  derive(passphrase: string, salt: Uint8Array, params: KdfParams): Promise<Uint8Array>;
}

/** RFC 9106's second recommended option (64 MiB, 3 passes, 1 lane): about a second in a browser. */
export const DEFAULT_KDF_PARAMS: KdfParams = { memoryKiB: 64 * 1024, iterations: 3, parallelism: 1 };

/** The reserved key holding salt, KDF parameters and verifier. Repository keys never start with "!". */
export const ENCRYPTED_STORE_META_KEY = "!encrypted-store";
/** Where an entry's sealed searchable text is kept: this, then the entry's key. */
const TEXT_PREFIX = "!text/";
/** Keys starting with this are the store's own, never a caller's. */
const RESERVED = "!";

const VERIFIER_PLAINTEXT = utf8("parley encrypted store v1: passphrase verifier");
const VERIFIER_AAD = utf8(`${ENCRYPTED_STORE_META_KEY}/verifier`);
const SALT_BYTES = 16;
const KEY_BYTES = 32;

interface StoreMeta {
  v: 1;
  kdf: "argon2id";
  salt: string; // base64url
  memoryKiB: number;
  iterations: number;
  parallelism: number;
  verifier: string; // base64url of seal(key, VERIFIER_PLAINTEXT, VERIFIER_AAD)
}

export class EncryptedStoreError extends Error {
  override name = "EncryptedStoreError";
  constructor(
    readonly code: "wrong_passphrase" | "locked" | "not_initialized" | "exists" | "corrupt" | "tampered",
    message: string,
  ) {
    super(message);
  }
}

export class EncryptedKeyValueStore implements KeyValueStore {
  private key: Uint8Array | null;
  /** Every entry's searchable text, opened at the first search after unlocking. */
  private texts: TextIndex | null = null;

  private constructor(
    private readonly inner: KeyValueStore,
    private readonly crypto: CryptoProvider,
    key: Uint8Array,
  ) {
    this.key = key;
  }

  /** Is there an encrypted store in `inner` already (so the app should ask to unlock, not onboard)? */
  static async exists(inner: KeyValueStore): Promise<boolean> {
    return (await inner.get(ENCRYPTED_STORE_META_KEY)) !== undefined;
  }

  /** Sets up encryption on an empty backend with a fresh salt. */
  static async create(
    inner: KeyValueStore,
    crypto: CryptoProvider,
    kdf: PassphraseKdf,
    passphrase: string,
    params: KdfParams = DEFAULT_KDF_PARAMS,
  ): Promise<EncryptedKeyValueStore> {
    if (passphrase.length === 0) throw new EncryptedStoreError("wrong_passphrase", "the passphrase is empty");
    if (await EncryptedKeyValueStore.exists(inner)) {
      throw new EncryptedStoreError(
        "exists",
        "this device already has an encrypted store: unlock it instead",
      );
    }
    checkParams(params);
    const salt = crypto.randomBytes(SALT_BYTES);
    const key = await deriveKey(kdf, passphrase, salt, params);
    const verifier = await crypto.seal(key, VERIFIER_PLAINTEXT, VERIFIER_AAD);
    const meta: StoreMeta = {
      v: 1,
      kdf: "argon2id",
      salt: toBase64Url(salt),
      ...params,
      verifier: toBase64Url(verifier),
    };
    await inner.write([{ key: ENCRYPTED_STORE_META_KEY, value: utf8(JSON.stringify(meta)) }]);
    return new EncryptedKeyValueStore(inner, crypto, key);
  }

  /** Derives the key from `passphrase` and checks it against the verifier before anything is read. */
  static async unlock(
    inner: KeyValueStore,
    crypto: CryptoProvider,
    kdf: PassphraseKdf,
    passphrase: string,
  ): Promise<EncryptedKeyValueStore> {
    const raw = await inner.get(ENCRYPTED_STORE_META_KEY);
    if (raw === undefined)
      throw new EncryptedStoreError("not_initialized", "there is no encrypted store here");
    const meta = parseMeta(raw);
    const params = { memoryKiB: meta.memoryKiB, iterations: meta.iterations, parallelism: meta.parallelism };
    const key = await deriveKey(kdf, passphrase, fromBase64Url(meta.salt), params);
    let check: Uint8Array;
    try {
      check = await crypto.open(key, fromBase64Url(meta.verifier), VERIFIER_AAD);
    } catch {
      key.fill(0);
      throw new EncryptedStoreError("wrong_passphrase", "wrong passphrase");
    }
    if (!equalBytes(check, VERIFIER_PLAINTEXT)) {
      key.fill(0);
      throw new EncryptedStoreError("wrong_passphrase", "wrong passphrase");
    }
    return new EncryptedKeyValueStore(inner, crypto, key);
  }

  get locked(): boolean {
    return this.key === null;
  }

  /** Forgets the key (overwriting it in memory). Every later call fails with code "locked". */
  lock(): void {
    this.key?.fill(0);
    this.key = null;
    this.texts?.clear();
    this.texts = null;
  }

  /** Deletes every entry of the backend, the reserved key included, and locks. */
  async wipe(): Promise<void> {
    const all = await this.inner.list("");
    await this.inner.write(all.map(([key]) => ({ key, value: null })));
    this.lock();
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const k = this.requireKey();
    checkUserKey(key);
    const sealed = await this.inner.get(key);
    return sealed === undefined ? undefined : this.openValue(k, key, sealed);
  }

  async list(
    prefix: string,
    options: { limit?: number; reverse?: boolean } = {},
  ): Promise<[string, Uint8Array][]> {
    const k = this.requireKey();
    // Reserved keys are not data: hide them (only the empty prefix can reach them).
    const mayHoldReserved = RESERVED.startsWith(prefix);
    let entries = await this.inner.list(
      prefix,
      mayHoldReserved ? { reverse: options.reverse === true } : options,
    );
    if (mayHoldReserved) {
      entries = entries.filter(([key]) => !key.startsWith(RESERVED));
      if (options.limit !== undefined && options.limit >= 0) entries = entries.slice(0, options.limit);
    }
    const out: [string, Uint8Array][] = [];
    for (const [key, sealed] of entries) out.push([key, await this.openValue(k, key, sealed)]);
    return out;
  }

  async write(writes: KvWrite[]): Promise<void> {
    const k = this.requireKey();
    const sealed: KvWrite[] = [];
    for (const w of writes) {
      checkUserKey(w.key);
      sealed.push({
        key: w.key,
        value: w.value === null ? null : await this.crypto.seal(k, w.value, utf8(w.key)),
      });
      const textKey = TEXT_PREFIX + w.key;
      if (w.value === null || w.text === null) sealed.push({ key: textKey, value: null });
      else if (w.text !== undefined)
        sealed.push({
          key: textKey,
          value: await this.crypto.seal(k, utf8(searchForm(w.text)), utf8(textKey)),
        });
    }
    await this.inner.write(sealed);
    for (const w of writes) this.texts?.apply(w.key, w.value === null, w.text);
  }

  async search(prefix: string, query: string, limit: number): Promise<string[]> {
    const k = this.requireKey();
    if (!this.texts) {
      const texts = new TextIndex();
      for (const [textKey, sealed] of await this.inner.list(TEXT_PREFIX)) {
        texts.set(textKey.slice(TEXT_PREFIX.length), fromUtf8(await this.openValue(k, textKey, sealed)));
      }
      this.texts = texts;
    }
    return this.texts.search(prefix, query, limit);
  }

  durable(): Promise<void> {
    return this.inner.durable();
  }

  async close(): Promise<void> {
    this.lock();
    await this.inner.close();
  }

  private requireKey(): Uint8Array {
    if (this.key === null)
      throw new EncryptedStoreError("locked", "the store is locked: unlock it with the passphrase");
    return this.key;
  }

  private async openValue(k: Uint8Array, key: string, sealed: Uint8Array): Promise<Uint8Array> {
    try {
      return await this.crypto.open(k, sealed, utf8(key));
    } catch {
      throw new EncryptedStoreError(
        "tampered",
        `stored value for "${key}" failed authentication: it was altered`,
      );
    }
  }
}

async function deriveKey(kdf: PassphraseKdf, passphrase: string, salt: Uint8Array, params: KdfParams) {
  const key = await kdf.derive(passphrase, salt, params);
  if (key.length !== KEY_BYTES)
    throw new EncryptedStoreError("corrupt", "the KDF returned a key of the wrong size");
  return key;
}

function checkUserKey(key: string): void {
  if (key.startsWith(RESERVED)) {
    throw new EncryptedStoreError(
      "corrupt",
      `keys starting with "${RESERVED}" are reserved by the encrypted store`,
    );
  }
}

/** Bounds on parameters read from disk: no absurd cost that hangs the device, none too cheap to matter. */
function checkParams(p: KdfParams): void {
  const ok =
    Number.isInteger(p.memoryKiB) &&
    Number.isInteger(p.iterations) &&
    Number.isInteger(p.parallelism) &&
    p.memoryKiB >= 8 &&
    p.memoryKiB <= 1024 * 1024 &&
    p.iterations >= 1 &&
    p.iterations <= 64 &&
    p.parallelism >= 1 &&
    p.parallelism <= 16;
  if (!ok) throw new EncryptedStoreError("corrupt", "the store's key-derivation parameters are out of range");
}

function parseMeta(raw: Uint8Array): StoreMeta {
  let meta: StoreMeta;
  try {
    meta = JSON.parse(fromUtf8(raw)) as StoreMeta;
  } catch {
    throw new EncryptedStoreError("corrupt", "the encrypted store's header is unreadable");
  }
  if (
    meta === null ||
    typeof meta !== "object" ||
    meta.v !== 1 ||
    meta.kdf !== "argon2id" ||
    typeof meta.salt !== "string" ||
    typeof meta.verifier !== "string"
  ) {
    throw new EncryptedStoreError(
      "corrupt",
      "the encrypted store's header is not one this version understands",
    );
  }
  checkParams(meta);
  return meta;
}
