/**
 * Credentials, RFC 9420 §5.3:
 *
 *     struct { CredentialType credential_type;
 *              select (credential_type) { case basic: opaque identity<V>;
 *                                         case x509:  Certificate certificates<V>; }; } Credential;
 *
 * Parley uses basic credentials (the identity carries Parley's device certificate, checked by the
 * authentication service above the engine); x509 is decoded only so foreign trees parse.
 */
import type { TlsReader, TlsWriter } from "../tls-codec.js";
import { readBytes, readList, writeList } from "./codec.js";
import { fail } from "./errors.js";

export const CredentialType = { basic: 1, x509: 2 } as const;

export type Credential =
  | { type: typeof CredentialType.basic; identity: Uint8Array }
  | { type: typeof CredentialType.x509; certificates: Uint8Array[] };

export function writeCredential(w: TlsWriter, c: Credential): void {
  w.u16(c.type);
  if (c.type === CredentialType.basic) w.vector(c.identity);
  else writeList(w, c.certificates, (ww, cert) => ww.vector(cert));
}

export function readCredential(r: TlsReader): Credential {
  const type = r.u16();
  if (type === CredentialType.basic) return { type, identity: readBytes(r) };
  if (type === CredentialType.x509) return { type, certificates: readList(r, readBytes) };
  return fail("unsupported", `credential type ${type}`);
}
