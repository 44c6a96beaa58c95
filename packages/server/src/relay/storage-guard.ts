import { statfs } from "node:fs/promises";
import type { FastifyBaseLogger } from "fastify";
import type { RelayConfig } from "../config.js";
import { safeError } from "../http/logging.js";
import { Problem } from "../problem.js";
import type { Store } from "../store/store.js";

export interface DiskSpace {
  /** Bytes an unprivileged process may still write (statfs `bavail × bsize`). */
  freeBytes: number;
  /** Size of the filesystem (statfs `blocks × bsize`). */
  totalBytes: number;
}

/** Reads the free space of the filesystem the data lives on; tests pass one that says "full". */
export type DiskProbe = () => Promise<DiskSpace>;

/** The real probe: statfs of the data directory. */
export function statfsProbe(dir: string): DiskProbe {
  return async () => {
    const s = await statfs(dir);
    return { freeBytes: s.bavail * s.bsize, totalBytes: s.blocks * s.bsize };
  };
}

/**
 * The global watermark (docs/relay-operations.md, "Quotas"): refuses new data with
 * `507 storage_full` while the disk is nearly full (`minFreeDiskBytes`, `minFreeDiskFraction`) or
 * the database is over `maxDbBytes`. Readings are reused for `storageCheckIntervalMs`, and one
 * reading is shared by all the requests that arrive while it is taken: never a statfs per request.
 * A probe that fails lets writes through (and is logged): the relay does not stop on a doubt.
 */
export class StorageGuard {
  private checkedAt = Number.NEGATIVE_INFINITY;
  private refusal: string | null = null;
  private reading: Promise<void> | null = null;
  private failing = false;

  constructor(
    private readonly config: RelayConfig,
    private readonly store: Store,
    private readonly probe: DiskProbe | undefined,
    private readonly now: () => number,
    private readonly log: FastifyBaseLogger,
  ) {}

  /** Whether a watermark is set at all (an in-memory relay has no disk to watch). */
  get active(): boolean {
    return this.probe !== undefined || this.config.maxDbBytes > 0;
  }

  /** Throws `storage_full` while new data must be refused. */
  async check(): Promise<void> {
    if (!this.active) return;
    if (this.now() - this.checkedAt >= this.config.storageCheckIntervalMs) {
      this.reading ??= this.read().finally(() => {
        this.reading = null;
      });
      await this.reading;
    }
    if (this.refusal !== null) throw new Problem("storage_full", this.refusal);
  }

  private async read(): Promise<void> {
    let refusal: string | null = null;
    try {
      if (this.probe) {
        const { freeBytes, totalBytes } = await this.probe();
        const floor = Math.max(this.config.minFreeDiskBytes, this.config.minFreeDiskFraction * totalBytes);
        if (freeBytes < floor)
          refusal = "the relay's disk is full; it takes no new data until space is freed";
      }
      if (refusal === null && this.config.maxDbBytes > 0) {
        // Blobs (file attachments) count as stored data too, by their declared sizes.
        const stored = (await this.store.storageBytes()) + (await this.store.blobs.totalBytes());
        if (stored > this.config.maxDbBytes) {
          refusal = "the relay's database is at its size limit; it takes no new data until space is freed";
        }
      }
      if (this.failing) this.log.info("storage check works again");
      this.failing = false;
    } catch (e) {
      if (!this.failing)
        this.log.error({ err: safeError(e) }, "storage check failed; writes are let through");
      this.failing = true;
    }
    if (refusal !== this.refusal) {
      if (refusal) this.log.warn("storage full: refusing new data");
      else if (this.refusal) this.log.info("storage below its limits again: taking new data");
    }
    this.refusal = refusal;
    this.checkedAt = this.now();
  }
}
