import type { CryptoProvider } from "../crypto/provider.js";
import { toBase64Url } from "../encoding/base64url.js";
import {
  type CreateQueueRequest,
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
  /**
   * A broadcast queue (a group's one queue; every member holds these same credentials): never
   * acknowledged, read with a cursor. Absent for a unicast queue.
   */
  broadcast?: true;
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

/**
 * One signed `ack` for several messages of one queue (at most ACK_BATCH_LIMIT): the signature
 * covers every id (recipientCommandBytes), so one signature stands for the whole batch.
 */
export async function signAckBatch(
  crypto: CryptoProvider,
  secretKey: Uint8Array,
  queueId: string,
  msgIds: readonly string[],
): Promise<RecipientCommand> {
  const fields = {
    cmd: "ack" as const,
    queueId,
    msgIds: [...msgIds],
    ts: Date.now(),
    nonce: toBase64Url(crypto.randomBytes(16)),
  };
  const sig = toBase64Url(await crypto.ed25519Sign(secretKey, recipientCommandBytes(fields)));
  return { ...fields, sig };
}

export async function signCreateQueue(
  crypto: CryptoProvider,
  publicKey: Uint8Array,
  secretKey: Uint8Array,
  options: { broadcast?: boolean; rendezvous?: boolean } = {},
): Promise<CreateQueueRequest> {
  const fields = {
    recipientKey: toBase64Url(publicKey),
    ...(options.broadcast === true ? { broadcast: true } : {}),
    ...(options.broadcast === true && options.rendezvous === true ? { rendezvous: true as const } : {}),
    ts: Date.now(),
    nonce: toBase64Url(crypto.randomBytes(16)),
  };
  const sig = toBase64Url(await crypto.ed25519Sign(secretKey, createQueueBytes(fields)));
  return { ...fields, sig };
}
