/**
 * What a PrivateMessage says in the clear (RFC 9420 §6.3): its epoch and content type. Read
 * without any key, so a client can tell a commit of an epoch it already left (a commit that lost
 * the race for that epoch) from one it can apply, before it tries to decrypt anything. The relay
 * sees these bytes as they are: reading them here tells the relay nothing new.
 */
import { WireFormat } from "./rfc9420/framing.js";
import { decodeMlsMessage } from "./rfc9420-engine/key-packages.js";

export interface PrivateMessageHeader {
  epoch: bigint;
  contentType: "application" | "proposal" | "commit";
}

const CONTENT_TYPES = { 1: "application", 2: "proposal", 3: "commit" } as const;

/** The header of an encoded MLSMessage(PrivateMessage); undefined for anything else or garbage. */
export function privateMessageHeader(message: Uint8Array): PrivateMessageHeader | undefined {
  try {
    const m = decodeMlsMessage(message, "message");
    if (m.wireFormat !== WireFormat.privateMessage) return undefined;
    const contentType = CONTENT_TYPES[m.privateMessage.contentType as 1 | 2 | 3];
    return contentType ? { epoch: m.privateMessage.epoch, contentType } : undefined;
  } catch {
    return undefined;
  }
}
