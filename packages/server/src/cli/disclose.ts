/**
 * `parley-server disclose`: prints everything the relay holds about one identifier. The point is
 * to show how little that is, so the output names each stored field and says what is absent.
 */
import { toB64u } from "../bytes.js";
import type { Disclosure, NonceRecord } from "../store/store.js";

const iso = (t: number) => new Date(t).toISOString();

export const isEmpty = (d: Disclosure): boolean =>
  d.queues.length === 0 && d.invites.length === 0 && d.nonces.length === 0;

/** JSON-ready form: bodies as base64url, times as ISO strings and milliseconds. */
export function disclosureJson(id: string, d: Disclosure) {
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
  };
}

export function formatDisclosure(id: string, d: Disclosure): string {
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
  if (d.nonces.length > 0) {
    out.push(`Nonces recorded under this identifier (replay protection): ${d.nonces.length}`);
    for (const n of d.nonces) out.push(`  ${n.nonce}  forgotten by ${iso(n.expiresAt)}`);
    out.push("");
  }
  out.push(
    "Nothing else: no names, accounts, phone numbers, IP addresses, senders, contact lists,",
    "delivery history or message contents. Times are rounded up to the hour.",
    "",
  );
  return out.join("\n");
}
