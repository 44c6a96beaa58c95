/**
 * The wire's identifiers and keys, as zod schemas of their base64url text: ids are random 16-byte
 * values chosen by the relay (22 chars); keys and signatures are Ed25519 (43 and 86 chars).
 */
import { z } from "zod";

const b64u = (min: number, max: number) =>
  z
    .string()
    .min(min)
    .max(max)
    .regex(/^[A-Za-z0-9_-]*$/, "must be base64url");

export const Id = b64u(22, 22);
export const PublicKey = b64u(43, 43); // 32 bytes
export const Signature = b64u(86, 86); // 64 bytes
export const Nonce = b64u(22, 22); // 16 bytes
