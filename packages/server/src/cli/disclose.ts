/**
 * `parley-server disclose`: prints everything the relay holds about one identifier (a queue, an
 * invite, a blob), or every blob it holds (`--all-blobs`). The point is to show how little that is, so
 * the output names each stored field and says what is absent.
 */
import { toB64u } from "../bytes.js";
import type { BlobRecord, Disclosure, NonceRecord, Store } from "../store/store.js";

const iso = (t: number) => new Date(t).toISOString();

/** What the relay holds about one identifier, blobs included (a blob id leads to its row only). */
export type FullDisclosure = Disclosure & { blobs?: BlobRecord[] };

export async function discloseAll(store: Store, idOrKey: string): Promise<FullDisclosure> {
  const blob = await store.blobs.get(idOrKey);
  return { ...(await store.disclose(idOrKey)), blobs: blob ? [blob] : [] };
}

export const isEmpty = (d: FullDisclosure): boolean =>
  d.queues.length === 0 && d.invites.length === 0 && d.nonces.length === 0 && (d.blobs ?? []).length === 0;

/** A blob row for JSON: every stored field, times as ISO strings. */
export const blobJson = (b: BlobRecord) => ({
  blobId: b.blobId,
  bytes: b.size,
  received: b.received,
  complete: b.complete,
  deletedByUploader: b.deleted,
  expiresAt: iso(b.expiresAt),
  writeCapHash: b.writeCapHash,
  deleteCapHash: b.deleteCapHash,
});

/** The lines of one blob, for the human output of both forms. */
function blobLines(b: BlobRecord): string[] {
  const state = b.deleted
    ? "deleted early by its uploader: its bytes are gone, this row stays until the time below"
    : b.complete
      ? "complete (anyone holding its id can read it)"
      : `upload in progress: ${b.received} of ${b.size} bytes in`;
  return [
    "Blob (an encrypted file attachment)",
    `  blob id         ${b.blobId}`,
    `  size            ${b.size} bytes of padded ciphertext   (a size class, not the file's size)`,
    `  state           ${state}`,
    `  deleted by      ${iso(b.expiresAt)}   (rounded up to the hour)`,
    `  capabilities    SHA-256 ${b.writeCapHash.slice(0, 16)}… (write), ${b.deleteCapHash.slice(0, 16)}… (delete)   (hashes only: the capabilities are not stored)`,
    "",
  ];
}

/** `disclose --all-blobs`: every blob the relay holds, as rows with no owner. */
export function formatBlobs(blobs: BlobRecord[]): string {
  if (blobs.length === 0) return "This relay holds no blobs.\n";
  const bytes = blobs.filter((b) => !b.deleted).reduce((n, b) => n + b.size, 0);
  return [
    `Blobs this relay holds: ${blobs.length} (${bytes} bytes of ciphertext)`,
    "",
    ...blobs.flatMap(blobLines),
    "Nothing else: no file names, types, keys or plaintext, no uploader or downloader, and no link",
    "from a blob to a queue, an account or another blob. Reading a blob needs only its id.",
    "",
  ].join("\n");
}

/** JSON-ready form: bodies as base64url, times as ISO strings and milliseconds. */
export function disclosureJson(id: string, d: FullDisclosure) {
  const nonce = (n: NonceRecord) => ({ scope: n.scope, nonce: n.nonce, expiresAt: iso(n.expiresAt) });
  return {
    query: id,
    queues: d.queues.map((q) => ({
      queueId: q.queueId,
      sendId: q.sendId,
      recipientKey: q.recipientKey,
      mode: q.broadcast ? "broadcast" : "unicast",
      keptIfUnusedUntil: iso(q.idleUntil),
      lastSeq: q.lastSeq,
      messages: q.messages.map((m) => ({
        msgId: m.msgId,
        seq: m.seq,
        bytes: m.body.length,
        expiresAt: iso(m.expiresAt),
        body: toB64u(m.body),
      })),
      nonces: q.nonces.map(nonce),
    })),
    invites: d.invites.map((i) => ({
      inviteId: i.inviteId,
      bytes: i.blob.length,
      expiresAt: iso(i.expiresAt),
      blob: toB64u(i.blob),
    })),
    nonces: d.nonces.map(nonce),
    blobs: (d.blobs ?? []).map(blobJson),
  };
}

export function formatDisclosure(id: string, d: FullDisclosure): string {
  if (isEmpty(d)) return `This relay holds nothing about ${id}.\n`;
  const out: string[] = [`What this relay holds about ${id}:`, ""];
  for (const q of d.queues) {
    out.push("Queue");
    out.push(`  queue id        ${q.queueId}   (where the recipient reads)`);
    out.push(`  send id         ${q.sendId}   (where senders deposit)`);
    out.push(`  recipient key   ${q.recipientKey}   (Ed25519 public key, fresh per queue)`);
    out.push(
      q.broadcast
        ? "  mode            broadcast   (one queue read by several holders of the key; messages kept until expiry)"
        : "  mode            unicast   (one reader; messages deleted when acknowledged)",
    );
    out.push(`  kept until      ${iso(q.idleUntil)}   (if unused until then)`);
    out.push(
      `  last position   ${q.lastSeq}   (orders messages; the rounded time of the last one plus how many came in that period)`,
    );
    out.push(`  ${q.broadcast ? "held" : "pending"} messages: ${q.messages.length}`);
    for (const m of q.messages) {
      out.push(`    ${m.msgId}  ${m.body.length} bytes of padded ciphertext, deleted by ${iso(m.expiresAt)}`);
    }
    if (q.nonces.length > 0) {
      out.push(`  recent command nonces (replay protection): ${q.nonces.length}`);
      for (const n of q.nonces) out.push(`    ${n.nonce}  forgotten by ${iso(n.expiresAt)}`);
    }
    out.push("");
  }
  for (const i of d.invites) {
    out.push("Invite");
    out.push(`  invite id       ${i.inviteId}`);
    out.push(`  blob            ${i.blob.length} bytes of ciphertext (its key is only in the link)`);
    out.push(`  deleted by      ${iso(i.expiresAt)}   (or when claimed)`);
    out.push("");
  }
  for (const b of d.blobs ?? []) out.push(...blobLines(b));
  if (d.nonces.length > 0) {
    out.push(`Nonces recorded under this identifier (replay protection): ${d.nonces.length}`);
    for (const n of d.nonces) out.push(`  ${n.nonce}  forgotten by ${iso(n.expiresAt)}`);
    out.push("");
  }
  out.push(
    "Nothing else: no names, accounts, phone numbers, IP addresses, senders, contact lists,",
    "delivery history, message contents, file names or types. Times are rounded up to the hour.",
    "",
  );
  return out.join("\n");
}
