import type { CryptoProvider } from "../crypto/provider.js";
import { toBase64Url } from "../encoding/base64url.js";
import {
  createQueueBytes,
  type RecipientCommand,
  type RecipientCommandName,
  recipientCommandBytes,
} from "../protocol/relay.js";

/** A queue as its recipient knows it: where to read (queueId), the key that may, and where others send. */
export interface QueueCredentials {
  relay: string;
  queueId: string;
  sendId: string;
  recipientKey: string; // base64url public key
  recipientSecretKey: string; // base64url seed
}

export async function signRecipientCommand(
  crypto: CryptoProvider,
  secretKey: Uint8Array,
  cmd: RecipientCommandName,
  queueId: string,
  msgId?: string,
): Promise<RecipientCommand> {
  const fields = { cmd, queueId, msgId, ts: Date.now(), nonce: toBase64Url(crypto.randomBytes(16)) };
  const sig = toBase64Url(await crypto.ed25519Sign(secretKey, recipientCommandBytes(fields)));
  return msgId === undefined
    ? { cmd, queueId, ts: fields.ts, nonce: fields.nonce, sig }
    : { ...fields, msgId, sig };
}

export async function signCreateQueue(crypto: CryptoProvider, publicKey: Uint8Array, secretKey: Uint8Array) {
  const fields = {
    recipientKey: toBase64Url(publicKey),
    ts: Date.now(),
    nonce: toBase64Url(crypto.randomBytes(16)),
  };
  const sig = toBase64Url(await crypto.ed25519Sign(secretKey, createQueueBytes(fields)));
  return { ...fields, sig };
}
