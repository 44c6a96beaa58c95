/**
 * A friend's feed, made up for the benchmarks: `posts` posts from 50 authors with `comments`
 * comments and 5 likes spread over them, stored straight into a profile (as if received), in one
 * write. Used by the feed bench on the CLI's SQLite store and by the web feed bench in the browser
 * (its IndexedDB store, through a bench-only build of the app).
 */
import type { ParleyClient } from "../client/parley-client.js";
import { putPost } from "../client/posts/store.js";
import type { CryptoProvider } from "../crypto/provider.js";
import { toBase64Url as b64 } from "../encoding/base64url.js";

export async function fillFeed(
  client: ParleyClient,
  crypto: CryptoProvider,
  posts: number,
  comments: number,
): Promise<void> {
  const people = Array.from({ length: 50 }, () => b64(crypto.randomBytes(32)));
  const pick = (i: number) => people[i % people.length]!;
  const conversationId = "feedgroup";
  const batch = client.repo.batch();
  client.repo.putConversation(batch, {
    id: conversationId,
    kind: "group",
    groupId: b64(crypto.randomBytes(32)),
    receive: { relay: "", queueId: "", sendId: "", recipientKey: "" } as never,
    sendTo: { relay: "", sendId: "" } as never,
    name: "Posts",
    admins: [pick(0)],
    previousQueues: [],
    status: "active",
    feed: true,
    createdAt: Date.now(),
  });
  const perPost = Math.ceil(comments / posts);
  const t0 = Date.now() - posts * 60_000;
  for (let p = 0; p < posts; p++) {
    const id = b64(crypto.randomBytes(16));
    putPost(batch, {
      v: 1,
      id,
      conversationId,
      author: pick(p),
      text: `Post ${p}: ${"a day out with friends, ".repeat(4)}`,
      images: [],
      sentAt: t0 + p * 60_000,
      receivedAt: t0 + p * 60_000,
      comments: Array.from({ length: perPost }, (_, c) => ({
        id: b64(crypto.randomBytes(16)),
        author: pick(p + c + 1),
        text: `comment ${c}: looks great!`,
        sentAt: t0 + p * 60_000 + c,
      })),
      likes: Object.fromEntries(Array.from({ length: 5 }, (_, l) => [pick(p + l + 7), t0])),
    });
  }
  await client.repo.commit(batch);
}
