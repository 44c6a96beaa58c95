/**
 * Serialises operations on one profile. MLS state is read-modify-write: two operations interleaving
 * on the same group would fork its ratchets, so every operation runs under this lock. Platforms
 * supply a stronger lock when several processes (CLI) or tabs (browser) share a profile.
 */
export interface ProfileLock {
  run<T>(fn: () => Promise<T>): Promise<T>;
}

/** Mutual exclusion within one process (one JS realm). */
export class InProcessLock implements ProfileLock {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn, fn);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
