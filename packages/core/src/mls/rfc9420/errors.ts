/**
 * Typed errors of Parley's RFC 9420 engine. Every failure on input from the network is an MlsError
 * with one of these codes, thrown before any state changes: callers branch on `code`, never on text.
 * (A decoder or a check that throws anything else is a bug.)
 */
export type MlsErrorCode =
  /** Bytes do not parse as the expected RFC 9420 structure (truncated, trailing, bad enum, bad length). */
  | "malformed"
  /** A value this engine does not speak (protocol version, cipher suite, credential type, wire format). */
  | "unsupported"
  /** A signature (leaf node, KeyPackage, FramedContent, GroupInfo) does not verify. */
  | "bad-signature"
  /** A membership tag or confirmation tag does not match. */
  | "bad-mac"
  /** AEAD or HPKE decryption failed. */
  | "decrypt-failed"
  /** The message is for another group or another epoch. */
  | "wrong-group"
  | "wrong-epoch"
  /** Ratchet tree invariants of §7.9 / §7.3: tree hash, parent hash, key uniqueness, leaf validity. */
  | "invalid-tree"
  | "bad-parent-hash"
  /** A LeafNode or KeyPackage violating §7.3 / §10.1 (lifetime, capabilities, duplicate keys…). */
  | "invalid-leaf"
  | "invalid-key-package"
  /** A proposal list violating §12.2 / §12.3, or a Commit violating §12.4 (e.g. a required path missing). */
  | "invalid-proposal"
  | "invalid-commit"
  | "path-required"
  /** Secret tree (§9.1): generation already consumed, too far ahead, or leaf out of range. */
  | "generation-consumed"
  | "generation-too-far"
  /** A PSK named by a proposal or GroupSecrets is not known. */
  | "unknown-psk"
  /** A Welcome not for us, or whose GroupInfo / tree does not check out (§12.4.3.1). */
  | "invalid-welcome"
  /** A referenced proposal is not in the cache. */
  | "unknown-proposal";

export class MlsError extends Error {
  override name = "MlsError";
  constructor(
    readonly code: MlsErrorCode,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

export function fail(code: MlsErrorCode, message: string): never {
  throw new MlsError(code, message);
}

/** Runs a decoder and turns any codec failure into `malformed`, so no other error type escapes. */
export function decodeOrFail<T>(what: string, decode: () => T): T {
  try {
    return decode();
  } catch (e) {
    if (e instanceof MlsError) throw e;
    throw new MlsError("malformed", `${what}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/**
 * Runs an operation on untrusted input so that whatever goes wrong surfaces as an MlsError: a
 * primitive refusing a malformed key or a codec limit becomes "malformed" (with the cause kept).
 */
export async function typed<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    if (e instanceof MlsError) throw e;
    const err = new MlsError(
      "malformed",
      `${what}: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`,
    );
    (err as { cause?: unknown }).cause = e;
    throw err;
  }
}
