/**
 * MLSMessage, RFC 9420 §6:
 *
 *     struct { ProtocolVersion version = mls10; WireFormat wire_format;
 *              select (wire_format) { case mls_public_message: PublicMessage; case mls_private_message: PrivateMessage;
 *                                     case mls_welcome: Welcome; case mls_group_info: GroupInfo;
 *                                     case mls_key_package: KeyPackage; } } MLSMessage;
 */
import { type TlsReader, TlsWriter } from "../tls-codec.js";
import { decodeExact } from "./codec.js";
import { fail } from "./errors.js";
import { type PublicMessage, readPublicMessage, WireFormat, writePublicMessage } from "./framing.js";
import { type GroupInfo, readGroupInfo, writeGroupInfo } from "./group-info.js";
import { type KeyPackage, readKeyPackage, writeKeyPackage } from "./key-package.js";
import { type PrivateMessage, readPrivateMessage, writePrivateMessage } from "./private-message.js";
import { MLS_10 } from "./suite.js";
import { readWelcome, type Welcome, writeWelcome } from "./welcome.js";

export type MlsMessage =
  | { wireFormat: typeof WireFormat.publicMessage; publicMessage: PublicMessage }
  | { wireFormat: typeof WireFormat.privateMessage; privateMessage: PrivateMessage }
  | { wireFormat: typeof WireFormat.welcome; welcome: Welcome }
  | { wireFormat: typeof WireFormat.groupInfo; groupInfo: GroupInfo }
  | { wireFormat: typeof WireFormat.keyPackage; keyPackage: KeyPackage };

export function writeMlsMessage(w: TlsWriter, m: MlsMessage): void {
  w.u16(MLS_10).u16(m.wireFormat);
  switch (m.wireFormat) {
    case WireFormat.publicMessage:
      writePublicMessage(w, m.publicMessage);
      return;
    case WireFormat.privateMessage:
      writePrivateMessage(w, m.privateMessage);
      return;
    case WireFormat.welcome:
      writeWelcome(w, m.welcome);
      return;
    case WireFormat.groupInfo:
      writeGroupInfo(w, m.groupInfo);
      return;
    case WireFormat.keyPackage:
      writeKeyPackage(w, m.keyPackage);
      return;
  }
}

export function readMlsMessage(r: TlsReader): MlsMessage {
  const version = r.u16();
  if (version !== MLS_10) fail("unsupported", `protocol version ${version}`);
  const wireFormat = r.u16();
  switch (wireFormat) {
    case WireFormat.publicMessage:
      return { wireFormat, publicMessage: readPublicMessage(r) };
    case WireFormat.privateMessage:
      return { wireFormat, privateMessage: readPrivateMessage(r) };
    case WireFormat.welcome:
      return { wireFormat, welcome: readWelcome(r) };
    case WireFormat.groupInfo:
      return { wireFormat, groupInfo: readGroupInfo(r) };
    case WireFormat.keyPackage:
      return { wireFormat, keyPackage: readKeyPackage(r) };
    default:
      return fail("unsupported", `wire format ${wireFormat}`);
  }
}

export const decodeMlsMessage = (bytes: Uint8Array): MlsMessage =>
  decodeExact("MLSMessage", readMlsMessage, bytes);

export function encodeMlsMessage(m: MlsMessage): Uint8Array {
  const w = new TlsWriter();
  writeMlsMessage(w, m);
  return w.finish();
}
