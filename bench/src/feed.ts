/**
 * Posts at WeChat's scale (issue 12, docs/04-posts.md), in one run, against a real relay process
 * and real SQLite profiles (the CLI's store):
 *  - postTextMs      an author with FRIENDS (default 5,000) friends in "all": client time from
 *                    `post` to the relay's answer to the deposit (reconcile check, MLS encrypt,
 *                    store, deposit), median of REPS posts after the first (which adds them all);
 *  - postPhotoMs     the same with one 200 kB photo, and uploadsPerPhoto: blobs the relay gained
 *                    per photo (must be 1);
 *  - addAllMs        the first post: adding every friend to "all" in one commit (setup, reported);
 *  - add100Ms / add100Commits   adding 100 friends to a named audience: time, and commits the
 *                    relay received for it (must be 1; each deposit on the feed queue is counted);
 *  - feedOpenMs      a friend's client opening a feed of POSTS (1,000) posts with COMMENTS (10,000)
 *                    comments and likes: `feed()` from the store plus the CLI's printing of every
 *                    post (what `parley feed --limit 1000` does after its start-up), median of REPS.
 * Friends are contacts with a KeyPackage each and no 1:1 queue (their invites are not sent): the
 * author's side is what is measured. CPU time (process.cpuUsage) is reported beside wall time.
 */
import { cpSync, mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createIdentity, type ParleyClient, Rfc9420Engine } from "@parley/core";
import { nodeCryptoProvider } from "@parley/core/node";
import { fillFeed } from "@parley/core/testing";
import { openProfile } from "@parley/node";
import { startRelayProcess } from "@parley/testkit";
import { median, round, writeResults } from "./report.js";

/** The CLI's own printing of a post (packages/cli/src/post-words.ts), loaded from its build. */
const { formatPost } = (await import("@parley/cli/dist/src/post-words.js" as string)) as {
  formatPost: (p: unknown) => string;
};

const FRIENDS = Number(process.env.BENCH_FEED_FRIENDS ?? 5000);
const POSTS = Number(process.env.BENCH_FEED_POSTS ?? 1000);
const COMMENTS = Number(process.env.BENCH_FEED_COMMENTS ?? 10_000);
/** What `parley feed` prints without --limit, several screens; the web app shows fewer at first. */
const SCREEN = 100;
const REPS = Number(process.env.BENCH_FEED_REPS ?? 7);
const crypto = nodeCryptoProvider;
const log = (...a: unknown[]) => console.error(`[feed ${new Date().toISOString().slice(11, 19)}]`, ...a);
const b64 = (u: Uint8Array) => Buffer.from(u).toString("base64url");

async function timed<T>(f: () => Promise<T>): Promise<{ ms: number; cpuMs: number; value: T }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const value = await f();
  const ms = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { ms, cpuMs: (c.user + c.system) / 1000, value };
}

/** `n` friends as contacts of `client`, each with one KeyPackage of suite 1 (and no 1:1 queue). */
async function addFriends(client: ParleyClient, n: number, from = 0): Promise<string[]> {
  const engine = new Rfc9420Engine(crypto);
  const batch = client.repo.batch();
  const ids: string[] = [];
  for (let i = from; i < from + n; i++) {
    const person = await createIdentity(crypto);
    const kp = await engine.createKeyPackage(person.device);
    const id = `friend${i}`;
    const conversationId = `conv${i}`;
    client.repo.putContact(batch, {
      id,
      name: `Friend ${i}`,
      named: true,
      identityKey: b64(person.identity.publicKey),
      conversationId,
      verified: false,
      keyChanged: false,
      addedAt: Date.now(),
    });
    client.repo.putConversation(batch, {
      id: conversationId,
      kind: "direct",
      contactId: id,
      groupId: b64(crypto.randomBytes(32)),
      receive: { relay: "", queueId: "", sendId: "", recipientKey: "" } as never,
      sendTo: null,
      createdAt: Date.now(),
    });
    client.repo.putTheirKeyPackage(batch, `kp${i}`, {
      contactId: id,
      keyPackage: b64(kp.publicMessage),
      receivedAt: Date.now(),
    });
    ids.push(id);
  }
  await client.repo.commit(batch);
  return ids;
}

/** A tiny valid JPEG of about `size` bytes (random scan data). */
function jpeg(size: number): Uint8Array {
  const head = [0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0];
  const sos = [0xff, 0xda, 0, 8, 1, 1, 0, 0, 0x3f, 0];
  const scan = crypto.randomBytes(size).map((b) => (b === 0xff ? 0 : b));
  return new Uint8Array([...head, ...sos, ...scan, 0xff, 0xd9]);
}

/** The MLS epoch of an audience's feed group, from the author's store. */
async function audienceEpoch(client: ParleyClient, name: string): Promise<bigint> {
  const rows = await client.repo.kv.list("audience/");
  const record = rows
    .map(([, v]) => JSON.parse(Buffer.from(v).toString("utf8")) as { name: string; conversationId: string })
    .find((a) => a.name === name)!;
  const conversation = (await client.repo.conversation(record.conversationId))!;
  const state = await client.repo.groupState(conversation.groupId);
  return new Rfc9420Engine(crypto).deserialize(state!).epoch;
}

/**
 * BENCH_FEED_FROM=AUTHOR_DIR,RELAY_DATA_DIR: start from copies of an author profile whose first post
 * to FRIENDS friends is done, and of its relay's data (the relay restarts on the port the profile
 * names). The first post is then not measured (it costs minutes of CPU at 5,000 friends: see
 * docs/04-posts.md); everything after it is.
 */
const from = process.env.BENCH_FEED_FROM?.split(",");
const relayData = join(mkdtempSync(join(tmpdir(), "bench-feed-")), "data");
const authorHome = mkdtempSync(join(tmpdir(), "bench-feed-author-"));
if (from) {
  cpSync(from[0]!, authorHome, { recursive: true });
  cpSync(from[1]!, relayData, { recursive: true });
}
const author = openProfile(authorHome);
const port = from ? Number(new URL((await author.client.repo.profile())!.relay).port) : 0;
// A loaded machine may take more than the default 15 s to start the relay at low priority.
const relay = await startRelayProcess({ dataDir: relayData, port, startDeadlineMs: 120_000 });
const blobs = () => readdirSync(join(relay.dataDir, "relay-blobs")).length;
try {
  let first: { ms: number; cpuMs: number } | undefined;
  if (!from) {
    await author.client.init("Author", relay.url);
    log(`making ${FRIENDS} friends`);
    await addFriends(author.client, FRIENDS);
    log("first post: adds every friend to 'all' in one commit");
    first = await timed(() => author.client.post({ text: "hello, all of you" }));
  } else for (let i = 0; i < 3; i++) await author.client.post({ text: `warm-up ${i}` });
  const textRuns = [];
  for (let i = 0; i < REPS; i++) textRuns.push(await timed(() => author.client.post({ text: `post ${i}` })));
  // What a text post's time was made of before issue 12's speed work, and what stands in for it now:
  // reading every contact (the audience check; now the contacts revision and the group's epoch,
  // client/posts/audiences.ts) and decoding the feed group's MLS state (now its tree is decoded on
  // first use, which sealing a post never comes to; a commit or a member list does).
  const contactsRead = [];
  const revisionRead = [];
  const stateLoad = [];
  const treeDecode = [];
  const all = (await author.client.repo.conversations()).find((c) => c.kind === "group" && c.feed)!;
  const engine = new Rfc9420Engine(crypto);
  for (let i = 0; i < REPS; i++) {
    contactsRead.push(await timed(() => author.client.repo.contacts()));
    revisionRead.push(await timed(() => author.client.repo.contactsRevision()));
    stateLoad.push(
      await timed(async () => engine.deserialize((await author.client.repo.groupState(all.groupId))!)),
    );
    treeDecode.push(
      await timed(async () =>
        engine.members(engine.deserialize((await author.client.repo.groupState(all.groupId))!)),
      ),
    );
  }
  log("adding 100 friends to a named audience");
  const hundred = await addFriends(author.client, 100, FRIENDS);
  // A name of this run's own: a profile copied with BENCH_FEED_FROM may hold an earlier run's.
  const hundredName = `Hundred ${Date.now().toString(36)}`;
  await author.client.createAudience(hundredName, [hundred[0]!]);
  const epochBefore = await audienceEpoch(author.client, hundredName);
  const add100 = await timed(() => author.client.addToAudience(hundredName, hundred.slice(1, 100)));
  // One commit moves the group one epoch on.
  const add100Commits = Number((await audienceEpoch(author.client, hundredName)) - epochBefore);

  log(`a friend's feed of ${POSTS} posts and ${COMMENTS} comments`);
  const reader = openProfile(mkdtempSync(join(tmpdir(), "bench-feed-reader-")));
  await reader.client.init("Reader", relay.url);
  await fillFeed(reader.client, crypto, POSTS, COMMENTS);
  let printed = 0;
  const open = (limit: number) =>
    timed(async () => {
      const posts = await reader.client.feed({ limit });
      printed = posts.map(formatPost).join("\n\n").length;
      return posts.length;
    });
  const screenRuns = [];
  const feedRuns = [];
  for (let i = 0; i < REPS; i++) {
    screenRuns.push(await open(SCREEN));
    feedRuns.push(await open(POSTS));
  }
  await reader.close();

  // Photos last: in two runs on the loaded machine the relay stopped answering here (ECONNREFUSED,
  // "socket hang up") for a reason not found; what it wrote is logged and the other rows stand.
  log("photo posts");
  const photoRuns: Awaited<ReturnType<typeof timed>>[] = [];
  let uploads = 0;
  let photoError: string | undefined;
  try {
    for (let i = 0; i < REPS; i++) {
      const bytes = jpeg(200_000);
      const before = blobs();
      photoRuns.push(
        await timed(() =>
          author.client.post({
            text: `photo ${i}`,
            images: [
              {
                source: { size: bytes.length, read: async (o, n) => bytes.subarray(o, o + n) },
                name: "p.jpg",
              },
            ],
          }),
        ),
      );
      uploads += blobs() - before;
    }
  } catch (e) {
    photoError = String(e);
    log("photo posts failed:", e, "\nrelay stderr (end):", relay.stderr().slice(-3000));
  }
  await author.close();

  const med = (runs: { ms: number }[]) => round(median(runs.map((r) => r.ms)));
  const cpu = (runs: { cpuMs: number }[]) => round(median(runs.map((r) => r.cpuMs)));
  writeResults(
    "feed",
    [
      { what: `post text, ${FRIENDS} friends`, ms: med(textRuns), cpuMs: cpu(textRuns), target: "≤ 20 ms" },
      {
        what: "  of which: the audience check (contacts revision)",
        ms: med(revisionRead),
        cpuMs: cpu(revisionRead),
      },
      {
        what: "  of which: load the feed group's MLS state (tree left encoded)",
        ms: med(stateLoad),
        cpuMs: cpu(stateLoad),
      },
      {
        what: `  not in a post any more: read ${FRIENDS} contacts`,
        ms: med(contactsRead),
        cpuMs: cpu(contactsRead),
      },
      {
        what: "  not in a post any more: load the state and decode its whole tree (a commit's first step)",
        ms: med(treeDecode),
        cpuMs: cpu(treeDecode),
      },
      photoError === undefined
        ? {
            what: "post with a 200 kB photo",
            ms: med(photoRuns),
            cpuMs: cpu(photoRuns),
            uploadsPerPhoto: uploads / REPS,
          }
        : { what: "post with a 200 kB photo: failed", error: photoError },
      first
        ? {
            what: `first post (adds ${FRIENDS} in one commit)`,
            ms: round(first.ms),
            cpuMs: round(first.cpuMs),
          }
        : { what: `first post (adds ${FRIENDS} in one commit): not measured (BENCH_FEED_FROM)` },
      {
        what: "add 100 friends to an audience",
        ms: round(add100.ms),
        cpuMs: round(add100.cpuMs),
        commits: add100Commits,
      },
      {
        what: `open the feed: the newest ${SCREEN} (parley feed's default), of ${POSTS} posts / ${COMMENTS} comments`,
        ms: med(screenRuns),
        cpuMs: cpu(screenRuns),
        posts: screenRuns[0]!.value,
        target: "≤ 100 ms",
      },
      {
        what: `open a feed of ${POSTS} posts, ${COMMENTS} comments, all of it (feed() + print)`,
        ms: med(feedRuns),
        cpuMs: cpu(feedRuns),
        posts: feedRuns[0]!.value,
        printedChars: printed,
      },
    ],
    {
      friends: FRIENDS,
      posts: POSTS,
      comments: COMMENTS,
      reps: REPS,
      ...(from ? { from: "BENCH_FEED_FROM" } : {}),
    },
  );
} finally {
  await relay.stop();
}
