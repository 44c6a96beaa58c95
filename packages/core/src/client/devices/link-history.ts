/**
 * `--with-history` (docs/devices.md, "History"): after the `conversations` step, the existing
 * device sends the history of every conversation the new device joined — messages as stored (text,
 * file messages' records, quotes, mentions, edits, deletions, reactions, read receipts) and the
 * feed's posts with their comments and likes — as `history` steps sealed under the step key and
 * padded like every other step, in chunks that fit one padding bucket, then `history-end` with the
 * counts. The relay sees padded ciphertext on the new device's reply queue: how many chunks, and
 * their buckets.
 *
 * Not sent: messages a disappearing-messages timer has made due, posts that have vanished, history
 * of conversations the new device did not join, and what only the old device may hold (a file's
 * delete capability, what it found checking a file it downloaded). The new device validates every
 * record (device-link.ts `HistoryMessage`, `HistoryPost`) and stores them with its profile in one
 * write (link-new.ts): a malformed chunk is a LinkError and nothing is stored.
 */
import type { SendAddress } from "../../content/common.js";
import { utf8 } from "../../encoding/bytes.js";
import {
  type HistoryMessage,
  HistoryMessage as HistoryMessageSchema,
  HistoryPost,
  LinkError,
  type LinkedConversation,
  type LinkHistory,
  openLinkStep,
  sealLinkStep,
} from "../../messaging/device-link.js";
import { bucketFor } from "../../protocol/padding.js";
import { RelayError } from "../../relay-client/errors.js";
import type { QueueCredentials } from "../../relay-client/signing.js";
import type { Batch } from "../../store/batch.js";
import type { ConversationRecord, MessageRecord } from "../../store/records.js";
import type { ClientContext } from "../context.js";
import { isExpired } from "../expire/sweep.js";
import { allPosts, putPost } from "../posts/store.js";
import { nextOnQueue, sendStep } from "./link-queue.js";

/**
 * Records per chunk are gathered up to this many bytes of JSON, so that a sealed chunk fits the
 * 512 KiB padding bucket (protocol/padding.ts), far under a relay's message limit (8 MiB by
 * default). A single larger record (a long text) goes alone in a chunk of a larger bucket.
 */
export const HISTORY_CHUNK_BYTES = 511 * 1024;

export interface HistorySent {
  chunks: number;
  messages: number;
  posts: number;
  /** Bytes of sealed chunks before padding, and as the relay stores them (padded). */
  bytes: number;
  paddedBytes: number;
  /** Records of this device that did not pass the checks the new device makes (left out). */
  unsendable: number;
}

export interface HistoryReceived {
  messages: HistoryMessage[];
  posts: HistoryPost[];
}

/** A message as it leaves this device: without what only this device may hold. */
function forTransfer(m: MessageRecord): unknown {
  if (!m.file) return m;
  const { deleteCap: _cap, checked: _checked, ...file } = m.file;
  return { ...m, file };
}

/** Sends the history of `linked` (see above); returns what went. */
export async function sendHistory(
  ctx: ClientContext,
  key: Uint8Array,
  to: SendAddress,
  linked: readonly LinkedConversation[],
  timeoutMs: number,
  chunkBytes = HISTORY_CHUNK_BYTES,
): Promise<HistorySent> {
  const sent: HistorySent = { chunks: 0, messages: 0, posts: 0, bytes: 0, paddedBytes: 0, unsendable: 0 };
  const now = ctx.now();
  let chunk: LinkHistory = { v: 1, step: "history", seq: 0, messages: [], posts: [] };
  let size = 0;
  const flush = async () => {
    if (chunk.messages.length === 0 && chunk.posts.length === 0) return;
    const sealed = await sealLinkStep(ctx.crypto, key, chunk);
    await sendWhenRoom(ctx, to, sealed, timeoutMs);
    sent.chunks++;
    sent.messages += chunk.messages.length;
    sent.posts += chunk.posts.length;
    sent.bytes += sealed.length;
    sent.paddedBytes += bucketFor(sealed.length);
    chunk = { v: 1, step: "history", seq: sent.chunks, messages: [], posts: [] };
    size = 0;
  };
  const add = async (json: number, put: () => void) => {
    if (size > 0 && size + json > chunkBytes) await flush();
    put();
    size += json;
  };
  for (const c of linked) {
    if (c.self) continue; // our devices' own group holds no history
    const record = await ctx.repo.conversation(c.id);
    if (!record) continue;
    for (const m of await ctx.repo.messages(c.id, Number.MAX_SAFE_INTEGER)) {
      if (isExpired(record, m, now)) continue;
      const parsed = HistoryMessageSchema.safeParse(forTransfer(m));
      if (!parsed.success) {
        sent.unsendable++;
        continue;
      }
      await add(utf8(JSON.stringify(parsed.data)).length + 1, () => chunk.messages.push(parsed.data));
    }
    if (!c.feed) continue;
    for (const p of await allPosts(ctx, c.id)) {
      if (p.expiresAt !== undefined && p.expiresAt <= now) continue;
      const parsed = HistoryPost.safeParse(p);
      if (!parsed.success) {
        sent.unsendable++;
        continue;
      }
      await add(utf8(JSON.stringify(parsed.data)).length + 1, () => chunk.posts.push(parsed.data));
    }
  }
  await flush();
  const end = await sealLinkStep(ctx.crypto, key, {
    v: 1,
    step: "history-end",
    chunks: sent.chunks,
    messages: sent.messages,
    posts: sent.posts,
  });
  await sendWhenRoom(ctx, to, end, timeoutMs);
  return sent;
}

/**
 * A unicast queue holds at most so much (the relay's per-queue cap, 256 MiB and 10,000 messages by
 * default): a history larger than that waits for the new device to take chunks off the queue.
 */
async function sendWhenRoom(ctx: ClientContext, to: SendAddress, sealed: Uint8Array, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await sendStep(ctx, to, sealed);
    } catch (e) {
      if (!(e instanceof RelayError) || e.code !== "queue_full" || Date.now() >= deadline) throw e;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

/**
 * The history steps, up to `history-end`, checked: every chunk in sequence, every record well
 * formed and of a conversation in `joined` (posts: of a feed), the counts as announced.
 */
export async function receiveHistory(
  ctx: ClientContext,
  key: Uint8Array,
  reply: QueueCredentials,
  joined: readonly LinkedConversation[],
  timeoutMs: number,
): Promise<HistoryReceived> {
  const conversations = new Map(joined.filter((c) => !c.self).map((c) => [c.id, c]));
  const messages: HistoryMessage[] = [];
  const posts: HistoryPost[] = [];
  for (let seq = 0; ; seq++) {
    const step = await openLinkStep(ctx.crypto, key, await nextOnQueue(ctx, reply, timeoutMs, "history"), [
      "history",
      "history-end",
    ]);
    if (step.step === "history-end") {
      if (step.chunks !== seq || step.messages !== messages.length || step.posts !== posts.length) {
        throw new LinkError(
          `the history is incomplete: ${seq} chunks, ${messages.length} messages and ${posts.length} posts arrived, ${step.chunks}, ${step.messages} and ${step.posts} were announced`,
        );
      }
      return { messages, posts };
    }
    if (step.seq !== seq) throw new LinkError(`history chunk ${step.seq} arrived where ${seq} was due`);
    for (const m of step.messages) {
      if (!conversations.has(m.conversationId))
        throw new LinkError("the history holds a message of a conversation this device did not join");
      if (m.fromMe !== (m.senderIdentity === null))
        throw new LinkError("the history holds a message whose sender does not match whether it is ours");
      messages.push(m);
    }
    for (const p of step.posts) {
      if (!conversations.get(p.conversationId)?.feed)
        throw new LinkError("the history holds a post of a feed this device did not join");
      posts.push(p);
    }
  }
}

/**
 * Adds the history of `conversation` to `batch`: each message once (by content id) under the order
 * key it had, and its posts. `newest`: the newest order key stored — the conversation is read up to
 * there (old history is not new to the person, and no read receipt goes for it).
 */
export function putHistory(
  ctx: ClientContext,
  batch: Batch,
  conversation: ConversationRecord,
  history: HistoryReceived,
): { newest: string | undefined; messages: number; posts: number } {
  const ids = new Set<string>();
  const keys = new Set<string>();
  let newest: string | undefined;
  for (const m of history.messages) {
    if (m.conversationId !== conversation.id || ids.has(m.id) || keys.has(m.key)) continue;
    ids.add(m.id);
    keys.add(m.key);
    ctx.repo.putMessage(batch, m as MessageRecord);
    if (newest === undefined || m.key > newest) newest = m.key;
  }
  const posts = new Set<string>();
  for (const p of history.posts) {
    if (p.conversationId !== conversation.id || posts.has(p.id)) continue;
    posts.add(p.id);
    putPost(batch, p);
  }
  return { newest, messages: ids.size, posts: posts.size };
}
