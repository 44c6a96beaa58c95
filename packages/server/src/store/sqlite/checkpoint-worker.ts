/**
 * The thread that checkpoints the relay's SQLite WAL (see checkpointer.ts): its own connection to
 * the same database file, and on each request one checkpoint — frames copied into the database
 * file and that file fsync'd: PASSIVE, which takes no lock a writer waits for, or TRUNCATE (which
 * does, and empties the WAL file) while the relay holds its commits.
 */
import { parentPort, workerData } from "node:worker_threads";
import Database from "better-sqlite3";

const port = parentPort;
if (!port) throw new Error("checkpoint-worker runs as a worker thread");
const db = new Database((workerData as { path: string }).path, { fileMustExist: true });
// The database file is synced after each checkpoint (as NORMAL does on the relay's own connection).
db.pragma("synchronous = NORMAL");
port.on("message", (message: "checkpoint" | "truncate" | "close") => {
  if (message === "close") {
    db.close();
    port.close();
    return;
  }
  try {
    // TRUNCATE only while the relay holds its commits (checkpointer.ts): it waits for writers.
    const mode = message === "truncate" ? "TRUNCATE" : "PASSIVE";
    const [result] = db.pragma(`wal_checkpoint(${mode})`) as {
      busy: number;
      log: number;
      checkpointed: number;
    }[];
    port.postMessage({ ok: true, ...result });
  } catch (e) {
    port.postMessage({ ok: false, error: (e as Error).message });
  }
});
