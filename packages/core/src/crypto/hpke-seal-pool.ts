/**
 * HPKE seals shared with one worker thread (node only). A commit in a large group seals one path
 * secret per node of each copath resolution — ~N/2 seals in a grown tree, ~100 µs each, all on the
 * main thread; the machine's second core stays idle. Seals asked for together (a commit starts them
 * all at once) are collected in one microtask and, when there are enough of them, cut into chunks:
 * this thread seals chunks from the front, the worker from the back, one chunk at a time each, so a
 * busy or slow worker simply takes fewer (work sharing, no fixed split).
 *
 * A lifetime that cannot hang a process:
 *  - the worker is started lazily, by the first large batch, and used only once it has said it is
 *    ready (from the middle of that batch, if it is ready by then); it is unref'd whenever nothing
 *    is in flight;
 *  - every chunk sent has a deadline: unanswered by then, this thread seals it, and the worker is
 *    not used again (it is never terminated: a thread stopped inside OpenSSL can leave a lock held);
 *  - any worker error, exit or failure to start: this thread seals everything, then and after.
 * Where the worker's module cannot be found (a bundled program), the pool is simply never used.
 * PARLEY_SEAL_WORKER=0 turns it off (node-hpke.ts), for A/B measurements.
 */
import { Worker } from "node:worker_threads";

export interface SealJob {
  publicKey: Uint8Array;
  plaintext: Uint8Array;
  info: Uint8Array;
  aad: Uint8Array;
}
export interface Sealed {
  enc: Uint8Array;
  ct: Uint8Array;
}
/** What the worker answers for a chunk: one result per job, null where the job threw. */
export interface ChunkAnswer {
  id: number;
  results?: (Sealed | null)[];
  ready?: true;
}

/** Fewer seals than this are sealed on this thread: a round trip to the worker costs more. */
export const OFFLOAD_MIN = 128;
/** Seals per chunk (~6 ms of work): small enough to share a batch evenly, large enough per message. */
const CHUNK = 64;
/** Chunks the worker holds at once: one being sealed, one waiting for it. */
const WORKER_DEPTH = 2;
/** A chunk unanswered after this long (plus 1 ms per seal) is sealed here, and the worker dropped. */
const PATIENCE_MS = 2000;

interface Pending {
  job: SealJob;
  resolve: (r: Sealed) => void;
  reject: (e: unknown) => void;
}

export class SealPool {
  private queue: Pending[] = [];
  private worker: Worker | undefined;
  private ready = false;
  private broken = false;
  private nextId = 0;
  private readonly inFlight = new Map<number, { chunk: Pending[]; timer: NodeJS.Timeout }>();
  /** Seals done on this thread and by the worker, since the start (tests, diagnostics). */
  readonly counts = { here: 0, worker: 0 };
  /** Chunks of the current batches not yet taken by either side (the worker takes from here). */
  private readonly waiting: Pending[][] = [];

  private readonly patienceMs: number;
  private readonly offloadMin: number;

  constructor(
    private readonly sealNow: (job: SealJob) => Sealed,
    private readonly workerUrl: URL,
    options: { patienceMs?: number; offloadMin?: number; disabled?: boolean } = {},
  ) {
    this.patienceMs = options.patienceMs ?? PATIENCE_MS;
    this.offloadMin = options.offloadMin ?? OFFLOAD_MIN;
    this.broken = options.disabled === true;
  }

  /** Whether the worker is up and used for large batches (tests, diagnostics). */
  get active(): boolean {
    return this.ready && !this.broken;
  }

  seal(job: SealJob): Promise<Sealed> {
    return new Promise((resolve, reject) => {
      this.queue.push({ job, resolve, reject });
      if (this.queue.length === 1) queueMicrotask(() => this.flush());
    });
  }

  /** Starts the worker now (so that the next large batch can use it). */
  warm(): void {
    this.ensureWorker();
  }

  private flush(): void {
    const batch = this.queue;
    this.queue = [];
    if (batch.length < this.offloadMin) {
      this.sealHere(batch);
      return;
    }
    // A worker still starting (the first large batch of a process: a CLI command's only commit)
    // takes chunks from the back as soon as it says it is ready; until then this thread seals from
    // the front, yielding between chunks so that the ready message can arrive.
    if (this.ensureWorker() === undefined) {
      this.sealHere(batch);
      return;
    }
    const chunks: Pending[][] = [];
    for (let i = 0; i < batch.length; i += CHUNK) chunks.push(batch.slice(i, i + CHUNK));
    // The worker's first chunk is the last one; this thread starts with the first.
    this.waiting.push(...chunks);
    this.feedWorker();
    void this.sealWaiting();
  }

  /** This thread's side: a chunk from the front, then a turn of the event loop (worker answers). */
  private async sealWaiting(): Promise<void> {
    for (;;) {
      const chunk = this.waiting.shift();
      if (chunk === undefined) return;
      this.sealHere(chunk);
      if (this.waiting.length > 0) await new Promise<void>((r) => setImmediate(r));
    }
  }

  /**
   * The worker's side: the last waiting chunks, up to WORKER_DEPTH in flight — with one, the worker
   * would sit idle from each answer until this thread, busy with a chunk of its own, sends the next.
   */
  private feedWorker(): void {
    while (this.feedWorkerOnce()) {}
  }

  private feedWorkerOnce(): boolean {
    const worker = this.worker;
    if (worker === undefined || !this.active || this.inFlight.size >= WORKER_DEPTH) return false;
    const chunk = this.waiting.pop();
    if (chunk === undefined) {
      if (this.inFlight.size === 0) worker.unref();
      return false;
    }
    const id = this.nextId++;
    const timer = setTimeout(() => this.giveUp(id), this.patienceMs + chunk.length);
    timer.unref();
    this.inFlight.set(id, { chunk, timer });
    worker.ref();
    try {
      worker.postMessage({ id, jobs: chunk.map((p) => p.job) });
    } catch {
      this.inFlight.delete(id);
      clearTimeout(timer);
      this.drop();
      this.sealHere(chunk);
      return false;
    }
    return true;
  }

  private answered(m: ChunkAnswer): void {
    if (m.ready) {
      this.ready = true;
      // Unref'd at creation, the worker is ref'd again once its thread is up: an idle worker must
      // not keep the process alive (measured: without this, a process that started the worker and
      // sealed nothing through it never exited).
      if (this.inFlight.size === 0) this.worker?.unref();
      this.feedWorker();
      return;
    }
    const entry = this.inFlight.get(m.id);
    if (entry === undefined) return; // late: already sealed here
    this.inFlight.delete(m.id);
    clearTimeout(entry.timer);
    const { chunk } = entry;
    const results = m.results;
    if (results === undefined || results.length !== chunk.length) this.sealHere(chunk);
    else
      for (const [i, p] of chunk.entries()) {
        const r = results[i];
        // A job the worker could not seal is sealed here, which throws the same error for it.
        if (r === null || r === undefined) this.sealHere([p]);
        else {
          this.counts.worker++;
          p.resolve(r);
        }
      }
    this.feedWorker();
  }

  private giveUp(id: number): void {
    const entry = this.inFlight.get(id);
    if (entry === undefined) return;
    this.inFlight.delete(id);
    this.drop();
    this.sealHere(entry.chunk);
  }

  /** No more chunks to the worker; whatever it still holds is sealed here. */
  private drop(): void {
    this.broken = true;
    const worker = this.worker;
    this.worker = undefined;
    worker?.unref();
    const stranded = [...this.inFlight.values()];
    this.inFlight.clear();
    for (const { chunk, timer } of stranded) {
      clearTimeout(timer);
      this.sealHere(chunk);
    }
  }

  private ensureWorker(): Worker | undefined {
    if (this.broken) return undefined;
    if (this.worker !== undefined) return this.worker;
    try {
      const worker = new Worker(this.workerUrl);
      worker.unref();
      worker.on("message", (m: ChunkAnswer) => this.answered(m));
      worker.on("error", () => this.drop());
      worker.on("exit", () => this.drop());
      this.worker = worker;
      return worker;
    } catch {
      this.broken = true;
      return undefined;
    }
  }

  private sealHere(pending: Pending[]): void {
    for (const p of pending) {
      try {
        this.counts.here++;
        p.resolve(this.sealNow(p.job));
      } catch (e) {
        p.reject(e);
      }
    }
  }
}
