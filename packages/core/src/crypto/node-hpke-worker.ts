/**
 * The worker thread of node-hpke.ts: seals batches of HPKE jobs (see SealBatcher). It holds no key
 * and no state between batches; the plaintexts (path secrets) are wiped once sealed.
 */
import { parentPort } from "node:worker_threads";
import { type SealJob, sealNow } from "./node-hpke.js";

parentPort?.on("message", (m: { id: number; jobs: SealJob[] }) => {
  try {
    const results = m.jobs.map(sealNow);
    for (const job of m.jobs) job.plaintext.fill(0);
    parentPort?.postMessage({ id: m.id, results });
  } catch {
    // The main thread seals them itself.
    parentPort?.postMessage({ id: m.id });
  }
});
