import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import {
  ErrorCodes,
  leadingZeroBits,
  type PowParams,
  parsePowStamp,
  powDigest,
  toBase64Url,
} from "@parley/protocol";
import type { RelayConfig } from "../config.js";
import { Problem } from "../problem.js";

/**
 * Stamps remembered at once (against replay): about 100 bytes each. Reaching it takes that many
 * valid stamps within two windows; then creation is refused `busy` until the window moves on.
 */
export const POW_MAX_REMEMBERED = 500_000;

/**
 * Proof of work for queue and invite creation (`powBits` > 0; see core's protocol/proof-of-work.ts
 * and docs/protocol.md, "Proof of work"). No client identity: the work is bound to the request.
 *
 * A challenge is `<window>.<mac>`, where `window` counts `powWindowMs` periods and `mac` is an HMAC
 * of the window and the bits under a secret this process draws at start. A challenge is accepted
 * during its own window and the next, so a stamp can be computed at most about two windows (4 min
 * by default) before it is used; stamps cannot be stockpiled. Each accepted stamp is remembered
 * until its challenge expires, so it cannot be used twice. A restart draws a new secret: challenges
 * issued before are refused and clients solve a new one.
 */
export class PowGate {
  private readonly secret = randomBytes(32);
  /** Digests of accepted stamps, by the window of their challenge. */
  private readonly used = new Map<number, Set<string>>();
  private remembered = 0;

  constructor(
    private readonly config: RelayConfig,
    private readonly now: () => number,
  ) {}

  get bits(): number {
    return this.config.powBits;
  }

  /** What `GET /v1/pow` and a `pow_required` refusal carry. */
  params(): PowParams {
    if (this.bits === 0) return { bits: 0 };
    return { bits: this.bits, challenge: this.challengeFor(this.window()) };
  }

  /**
   * Accepts the request if PoW is off, or `header` is a fresh, valid, unused stamp over
   * `requestBytes` (and remembers it); else throws `pow_required` with a new challenge.
   */
  check(header: string | undefined, requestBytes: Uint8Array): void {
    if (this.bits === 0) return;
    const stamp = parsePowStamp(header);
    if (!stamp) throw this.refuse("this relay needs a proof of work to create queues and invites");
    const current = this.window();
    const window = this.windowOf(stamp.challenge);
    if (window === null || (window !== current && window !== current - 1)) {
      throw this.refuse("the proof of work is for an unknown or expired challenge");
    }
    const digest = powDigest(stamp, requestBytes);
    if (leadingZeroBits(digest) < this.bits)
      throw this.refuse("the proof of work is not valid for this request");
    this.forget(current);
    const key = toBase64Url(digest);
    for (const set of this.used.values()) {
      if (set.has(key)) throw this.refuse("this proof of work was already used");
    }
    if (this.remembered >= POW_MAX_REMEMBERED) {
      throw new Problem(ErrorCodes.busy, "too many queues and invites are being created; try again shortly");
    }
    const set = this.used.get(window) ?? new Set<string>();
    this.used.set(window, set);
    set.add(key);
    this.remembered++;
  }

  private window(): number {
    return Math.floor(this.now() / this.config.powWindowMs);
  }

  private challengeFor(window: number): string {
    return `${window}.${toBase64Url(this.mac(window))}`;
  }

  private mac(window: number): Uint8Array {
    return createHmac("sha256", this.secret)
      .update(`parley-relay-v1|pow|${window}|${this.bits}`)
      .digest()
      .subarray(0, 16);
  }

  /** The window a challenge this relay issued belongs to, or null if it did not issue it. */
  private windowOf(challenge: string): number | null {
    const m = /^(\d{1,15})\.([A-Za-z0-9_-]{22})$/.exec(challenge);
    if (!m) return null;
    const window = Number(m[1]);
    const given = Buffer.from(m[2]!, "base64url");
    return given.length === 16 && timingSafeEqual(given, this.mac(window)) ? window : null;
  }

  /** Drops stamps whose challenge can no longer be used. */
  private forget(current: number): void {
    for (const [window, set] of this.used) {
      if (window < current - 1) {
        this.remembered -= set.size;
        this.used.delete(window);
      }
    }
  }

  private refuse(message: string): Problem {
    return new Problem(ErrorCodes.powRequired, message, { pow: this.params() });
  }
}
