/**
 * The thread that checkpoints the relay's SQLite WAL (see checkpointer.ts): its own connection to
 * the same database file, and on each request one PASSIVE checkpoint — frames copied into the
 * database file and that file fsync'd, without taking any lock a writer waits for.
 */
import { parentPort, workerData } from "node:worker_threads";
import Database from "better-sqlite3";

const port = parentPort;
if (!port) throw new Error("checkpoint-worker runs as a worker thread");
const db = new Database((workerData as { path: string }).path, { fileMustExist: true });
// The database file is synced after each checkpoint (as NORMAL does on the relay's own connection).
db.pragma("synchronous = NORMAL");
port.on("message", (message: "checkpoint" | "close") => {
  if (message === "close") {
    db.close();
    port.close();
    return;
  }
  try {
    const [result] = db.pragma("wal_checkpoint(PASSIVE)") as {
      busy: number;
      log: number;
      checkpointed: number;
    }[];
    port.postMessage({ ok: true, ...result });
  } catch (e) {
    port.postMessage({ ok: false, error: (e as Error).message });
  }
});
