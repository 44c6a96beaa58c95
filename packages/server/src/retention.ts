import type { RelayConfig } from "./config.js";

/**
 * Rounds a time up to the configured granularity. Only rounded times are written to disk, so a
 * copy of the database cannot order messages or queue activity more finely than that; rounding up
 * means nothing is ever deleted earlier than promised.
 */
export const coarse = (time: number, granularityMs: number): number =>
  Math.ceil(time / granularityMs) * granularityMs;

export class Retention {
  constructor(private readonly config: RelayConfig) {}

  messageExpiry(now: number): number {
    return coarse(now + this.config.ttlMs, this.config.timeGranularityMs);
  }

  /** A queue is kept this long after it was last used, by its recipient or a sender. */
  queueIdleUntil(now: number): number {
    return coarse(now + this.config.ttlMs, this.config.timeGranularityMs);
  }

  /** An upload must be complete by then; a complete blob lives as long as a message (messageExpiry). */
  blobUploadExpiry(now: number): number {
    return coarse(now + this.config.blobUploadTtlMs, this.config.timeGranularityMs);
  }

  inviteExpiry(now: number): number {
    return coarse(now + this.config.inviteTtlMs, this.config.timeGranularityMs);
  }

  /** A nonce must be remembered for as long as its timestamp would still pass the clock check. */
  nonceExpiry(ts: number, skewMs: number): number {
    return coarse(ts + skewMs, this.config.timeGranularityMs);
  }
}
