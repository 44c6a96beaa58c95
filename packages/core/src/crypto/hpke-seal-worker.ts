/**
 * The worker thread of hpke-seal-pool.ts: seals chunks of HPKE (suite 1) jobs with node-hpke.ts's own
 * seal. It holds no key and no state between chunks; each chunk's plaintexts (path secrets) are
 * wiped once sealed. A job that throws is answered with null: the main thread seals it again, which
 * throws the same error there.
 */
import { parentPort } from "node:worker_threads";
import type { ChunkAnswer, SealJob } from "./hpke-seal-pool.js";
import { sealJob } from "./node-hpke.js";

const port = parentPort;
if (port !== null) {
  port.on("message", (m: { id: number; jobs: SealJob[] }) => {
    const results = m.jobs.map((job) => {
      try {
        return sealJob(job);
      } catch {
        return null;
      }
    });
    for (const job of m.jobs) job.plaintext.fill(0);
    const answer: ChunkAnswer = { id: m.id, results };
    port.postMessage(answer);
  });
  const ready: ChunkAnswer = { id: -1, ready: true };
  port.postMessage(ready);
}
