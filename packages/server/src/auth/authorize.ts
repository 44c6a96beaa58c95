import { COMMAND_CLOCK_SKEW_MS, ErrorCodes, fromBase64Url } from "@parley/protocol";
import { Problem } from "../problem.js";
import type { Store } from "../store/store.js";
import { verifyEd25519 } from "./ed25519.js";

export interface SignedRequest {
  /** Where the nonce is recorded: the queue id, or the recipient key when creating a queue. */
  scope: string;
  /** base64url Ed25519 public key expected to have signed. */
  publicKey: string;
  /** The exact bytes that were signed (recipientCommandBytes / createQueueBytes). */
  signed: Uint8Array;
  ts: number;
  nonce: string;
  sig: string;
}

export function checkClock(ts: number, now: number): void {
  if (Math.abs(now - ts) > COMMAND_CLOCK_SKEW_MS) {
    throw new Problem(
      ErrorCodes.clockSkew,
      `command timestamp is more than ${COMMAND_CLOCK_SKEW_MS / 60000} minutes from the relay's clock; check the device clock`,
    );
  }
}

/**
 * Accepts a signed request only if it is fresh, signed by `publicKey`, and not seen before, in that
 * order: the nonce is recorded only once the signature holds, so nobody can use up someone else's.
 */
export async function authorize(
  store: Store,
  request: SignedRequest,
  now: number,
  nonceExpiresAt: number,
): Promise<void> {
  verifySigned(request, now);
  if (!(await store.rememberNonce(request.scope, request.nonce, nonceExpiresAt))) throw replay();
}

export const replay = (): Problem =>
  new Problem(ErrorCodes.replay, "this command was already received (nonce reused)");

/**
 * The checks of `authorize` short of recording the nonce, for a command that needs no replay
 * protection of its own (an ack: see relay/operations.ts, ack).
 */
export function verifySigned(request: SignedRequest, now: number): void {
  checkClock(request.ts, now);
  let key: Uint8Array;
  let sig: Uint8Array;
  try {
    key = fromBase64Url(request.publicKey);
  } catch {
    throw new Problem(ErrorCodes.badRequest, "recipient key is not canonical base64url");
  }
  try {
    sig = fromBase64Url(request.sig);
  } catch {
    throw new Problem(ErrorCodes.badSignature, "signature is not canonical base64url");
  }
  if (!verifyEd25519(key, request.signed, sig)) {
    throw new Problem(ErrorCodes.badSignature, "signature does not verify");
  }
}
