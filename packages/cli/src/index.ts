/** The CLI's Node storage pieces, for tools (benchmarks) that drive the client engine directly. */

export { openProfile, resolveHome } from "./profile.js";
export { FileLock } from "./storage/file-lock.js";
export { SqliteKeyValueStore } from "./storage/sqlite-kv-store.js";
