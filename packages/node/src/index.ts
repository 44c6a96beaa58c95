/**
 * @parley/node: the client engine's Node platform — the SQLite key-value store, the cross-process
 * profile lock, and opening a profile folder as the CLI does. Used by the CLI, the benchmarks and tests.
 * (Node's native crypto provider stays in `@parley/core/node`, beside the noble one it is proven against.)
 */
export { FileLock } from "./file-lock.js";
export {
  FileDownloadTarget,
  fileSource,
  keepMemoryFlat,
  nodeAesGcm,
  nodeFetch,
  nodeSha256,
} from "./files.js";
export {
  argon2idKdf,
  changePassphrase,
  isEncrypted,
  removePassphrase,
  setPassphrase,
  unlockStore,
} from "./passphrase.js";
export {
  type OpenProfile,
  openProfile,
  openProfileUnlocked,
  openStore,
  PROFILE_DATABASE,
  resolveHome,
} from "./profile.js";
export { SqliteKeyValueStore } from "./sqlite-kv-store.js";
export { type Wiped, wipeProfile } from "./wipe.js";
