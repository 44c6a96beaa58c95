/**
 * Device links (docs/devices.md, "Linking"): `<relay URL>/#/link/<inviteId>/<key>`. The relay keeps
 * the sealed link blob with its invite mechanism (one claim), so it sees an invite-like blob and
 * nothing that says "a device". The fragment never reaches a server.
 *
 * The link's key `K` only hides the blob. Whoever sees the link (over a shoulder, in a screenshot)
 * could use it, so the two devices also run an X25519 exchange: the existing device's ephemeral key
 * is in the blob, the new device's travels with its hello, and every later step is sealed under a
 * key derived from the shared secret and the transcript. Both devices show a **short code** from
 * the transcript; the person confirms on the existing device that they match before anything
 * secret leaves it. A device that raced the real one, or a relay that swapped a key, ends up with
 * a different code.
 */
import { x25519 } from "@noble/curves/ed25519.js";
import { z } from "zod";
import { B64, DisplayName, SendAddress } from "../content/common.js";
import { FileBody } from "../content/file.js";
import { MAX_MENTIONS, Mention, MessageId } from "../content/message-ref.js";
import { MAX_POST_IMAGES, MAX_POST_TEXT_LENGTH } from "../content/post.js";
import { MAX_COMMENT_LENGTH } from "../content/post-comment.js";
import { ReactionEmoji } from "../content/reaction.js";
import { MAX_TEXT_LENGTH } from "../content/text.js";
import type { CryptoProvider } from "../crypto/provider.js";
import { fromBase64Url, toBase64Url } from "../encoding/base64url.js";
import { concatBytes, fromUtf8, utf8 } from "../encoding/bytes.js";
import { PaddingError, pad, unpad } from "../protocol/padding.js";
import { normalizeRelayUrl } from "../relay-client/relay-http.js";
import { textSchema } from "./text-length.js";

export class LinkError extends Error {
  override name = "LinkError";
  constructor(
    message: string,
    /**
     * `wrong_key`: the link's key does not open the blob; `gone`: used or expired; `invalid`: not a
     * device link or a malformed step; `timeout`: the other device did not answer in time.
     */
    readonly reason: "wrong_key" | "gone" | "invalid" | "timeout" = "invalid",
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export interface DeviceLink {
  relay: string;
  inviteId: string;
  key: Uint8Array;
}

export function formatDeviceLink(link: DeviceLink): string {
  return `${link.relay}/#/link/${link.inviteId}/${toBase64Url(link.key)}`;
}

export function parseDeviceLink(text: string): DeviceLink {
  const match = /^(https?:\/\/[^#\s]+?)\/?#\/link\/([A-Za-z0-9_-]{22})\/([A-Za-z0-9_-]{43})$/.exec(
    text.trim(),
  );
  if (!match) throw new LinkError("not a Parley device link (expected <relay>/#/link/<id>/<key>)");
  try {
    return { relay: normalizeRelayUrl(match[1]!), inviteId: match[2]!, key: fromBase64Url(match[3]!) };
  } catch (e) {
    throw new LinkError(`not a valid Parley device link: ${(e as Error).message}`, "invalid", { cause: e });
  }
}

/** The blob behind a link: where the new device says hello, and the existing device's ephemeral key. */
export const LinkBlob = z.object({
  v: z.literal(1),
  kind: z.literal("device-link"),
  sendId: z.string().min(1).max(64),
  ephemeral: B64(43),
});
export type LinkBlob = z.infer<typeof LinkBlob>;

/** Step 1, new → existing (link queue): its name for itself and where answers go. */
export const LinkHello = z.object({
  v: z.literal(1),
  step: z.literal("hello"),
  device: DisplayName,
  reply: SendAddress,
});

/** A contact as the existing device passes it on (the new device keeps the same local ids). */
const LinkedContact = z.object({
  id: z.string().min(1).max(64),
  name: DisplayName,
  named: z.boolean(),
  identityKey: B64(43),
  conversationId: z.string().min(1).max(64),
  verified: z.boolean(),
  keyChanged: z.boolean(),
  mustAccept: z.literal(true).optional(),
  previousIdentityKeys: z.array(B64(43)).max(100).optional(),
  ourName: z.literal(true).optional(),
  blocked: z.literal(true).optional(),
  addedAt: z.number(),
});

/**
 * Step 2, existing → new: the person (identity key pair, name, relay), their contacts, and the cipher
 * suite of each conversation the new device is to join (it makes one KeyPackage for each).
 */
export const LinkProfile = z.object({
  v: z.literal(1),
  step: z.literal("profile"),
  name: DisplayName,
  relay: z.string().url().max(2048),
  identityPublicKey: B64(43),
  identitySecretKey: B64(43),
  contacts: z.array(LinkedContact).max(100_000),
  /** conversation id → its MLS cipher suite's name (the new device's engine refuses one it lacks). */
  suites: z.record(z.string().min(1).max(64), z.string().min(1).max(128)),
  /** Our devices as the existing one knows them, this new one not yet among them. */
  devices: z.record(
    B64(43),
    // "" for a first device from before names.
    z.object({
      name: z.union([z.literal(""), DisplayName]),
      addedAt: z.number(),
      revokedAt: z.number().optional(),
    }),
  ),
});
export type LinkProfile = z.infer<typeof LinkProfile>;

/** Step 3, new → existing: its device key and one KeyPackage per conversation. */
export const LinkKeyPackages = z.object({
  v: z.literal(1),
  step: z.literal("key-packages"),
  deviceKey: B64(43),
  keyPackages: z.record(z.string().min(1).max(64), B64(64 * 1024)),
});

const QueueCreds = z.object({
  relay: z.string().url().max(2048),
  queueId: z.string().min(1).max(64),
  sendId: z.string().min(1).max(64),
  recipientKey: B64(43),
  recipientSecretKey: B64(43),
  broadcast: z.literal(true),
});

/** One conversation the new device joins: its Welcome, its queues, and where to start reading. */
export const LinkedConversation = z.object({
  id: z.string().min(1).max(64),
  kind: z.enum(["direct", "group"]),
  welcome: B64(4 * 1024 * 1024),
  receive: QueueCreds,
  sendTo: SendAddress,
  /** The relay msgId after which the new device reads the shared queue (its add commit). */
  cursor: z.string().min(1).max(64).optional(),
  contactId: z.string().min(1).max(64).optional(),
  name: z.string().max(256).optional(),
  feed: z.literal(true).optional(),
  /** Our devices' own group (client/devices/self-group.ts). */
  self: z.literal(true).optional(),
  createdAt: z.number(),
  /** Disappearing messages as agreed in it (client/expire/timer.ts): the new device keeps the timer. */
  expireAfter: z.number().int().positive().optional(),
  expireSince: z.number().optional(),
  expireSetAt: z.number().optional(),
});
export type LinkedConversation = z.infer<typeof LinkedConversation>;

/** Step 4, existing → new: the conversations it was added to, and those that could not be (why). */
export const LinkConversations = z.object({
  v: z.literal(1),
  step: z.literal("conversations"),
  conversations: z.array(LinkedConversation).max(100_000),
  skipped: z.array(z.object({ id: z.string().max(64), cause: z.string().max(1000) })).max(100_000),
  /** `--with-history`: `history` steps follow, then `history-end` (the new device waits for them). */
  history: z.literal(true).optional(),
});

/** A message of history as it crosses to the new device (store/records.ts MessageRecord). */
export const HistoryMessage = z.object({
  id: MessageId,
  conversationId: z.string().min(1).max(64),
  fromMe: z.boolean(),
  senderIdentity: B64(43).nullable(),
  text: textSchema(0, MAX_TEXT_LENGTH),
  sentAt: z.number(),
  receivedAt: z.number().nullable(),
  status: z.enum(["sending", "sent", "delivered", "failed", "received"]),
  /** The order key on the old device (client/context.ts orderKey: time, then an id): same order here. */
  key: z.string().regex(/^\d{15}-[A-Za-z0-9_-]{1,64}$/),
  /** What the message said of its file, and whether its sender deleted it from the relay. */
  file: FileBody.omit({ type: true })
    .extend({
      removed: z
        .array(
          z.enum(["location", "camera", "timestamps", "owner", "exif", "xmp", "iptc", "comment", "text"]),
        )
        .max(16)
        .optional(),
      deleted: z.boolean().optional(),
    })
    .optional(),
  quote: MessageId.optional(),
  mentions: z.array(Mention).max(MAX_MENTIONS).optional(),
  edited: z.number().optional(),
  deleted: z.number().optional(),
  reactions: z.record(B64(64), z.object({ emoji: ReactionEmoji.nullable(), at: z.number() })).optional(),
  readBy: z.record(B64(64), z.number()).optional(),
});
export type HistoryMessage = z.infer<typeof HistoryMessage>;

/** A post of a feed (client/posts/store.ts PostRecord), with its comments and likes. */
export const HistoryPost = z.object({
  v: z.literal(1),
  id: MessageId,
  conversationId: z.string().min(1).max(64),
  author: B64(43),
  text: textSchema(0, MAX_POST_TEXT_LENGTH),
  images: z.array(MessageId).max(MAX_POST_IMAGES),
  sentAt: z.number(),
  receivedAt: z.number(),
  expiresAt: z.number().optional(),
  comments: z
    .array(
      z.object({
        id: MessageId,
        author: B64(43),
        text: textSchema(1, MAX_COMMENT_LENGTH),
        sentAt: z.number(),
      }),
    )
    .max(100_000),
  likes: z.record(B64(43), z.number()),
});
export type HistoryPost = z.infer<typeof HistoryPost>;

/**
 * `--with-history`, existing → new, after `conversations`: one chunk of the history of the
 * conversations the new device joined, oldest first per conversation; `seq` counts from 0.
 */
export const LinkHistory = z.object({
  v: z.literal(1),
  step: z.literal("history"),
  seq: z.number().int().nonnegative(),
  messages: z.array(HistoryMessage).max(100_000),
  posts: z.array(HistoryPost).max(100_000),
});
export type LinkHistory = z.infer<typeof LinkHistory>;

/** The last step of `--with-history`: how many chunks, messages and posts were sent. */
export const LinkHistoryEnd = z.object({
  v: z.literal(1),
  step: z.literal("history-end"),
  chunks: z.number().int().nonnegative(),
  messages: z.number().int().nonnegative(),
  posts: z.number().int().nonnegative(),
});

export const LinkStep = z.discriminatedUnion("step", [
  LinkHello,
  LinkProfile,
  LinkKeyPackages,
  LinkConversations,
  LinkHistory,
  LinkHistoryEnd,
]);
export type LinkStep = z.infer<typeof LinkStep>;

const BLOB_AAD = utf8("parley-device-link-v1");
const STEP_AAD = utf8("parley-device-link-step-v1");

export const sealLinkBlob = (crypto: CryptoProvider, key: Uint8Array, blob: LinkBlob) =>
  crypto.seal(key, pad(utf8(JSON.stringify(blob))), BLOB_AAD);

export async function openLinkBlob(
  crypto: CryptoProvider,
  key: Uint8Array,
  sealed: Uint8Array,
): Promise<LinkBlob> {
  let plain: Uint8Array;
  try {
    plain = await crypto.open(key, sealed, BLOB_AAD);
  } catch {
    throw new LinkError(
      "the link could not be opened: it is not a device link, was mistyped, or was tampered with",
      "wrong_key",
    );
  }
  const parsed = LinkBlob.safeParse(parseJson(plain));
  if (!parsed.success) throw new LinkError("the device link is malformed");
  return parsed.data;
}

function parseJson(bytes: Uint8Array, padded = true): unknown {
  try {
    return JSON.parse(fromUtf8(padded ? unpad(bytes) : bytes));
  } catch (e) {
    if (e instanceof PaddingError || e instanceof SyntaxError || e instanceof TypeError) return undefined;
    throw e;
  }
}

export interface EphemeralKey {
  publicKey: Uint8Array;
  secretKey: Uint8Array;
}

export function ephemeralKey(crypto: CryptoProvider): EphemeralKey {
  const secretKey = crypto.randomBytes(32);
  return { secretKey, publicKey: x25519.getPublicKey(secretKey) };
}

/**
 * The step key and the short code, from the X25519 secret and the whole transcript (link id, the
 * existing device's key, then the new one's): the two devices agree on both only if each saw the
 * other's real key.
 */
export async function linkSecrets(
  crypto: CryptoProvider,
  inviteId: string,
  own: EphemeralKey,
  peer: Uint8Array,
  existing: Uint8Array,
  fresh: Uint8Array,
): Promise<{ key: Uint8Array; code: string }> {
  let shared: Uint8Array;
  try {
    shared = x25519.getSharedSecret(own.secretKey, peer);
  } catch (e) {
    throw new LinkError("the other device's key is invalid", "invalid", { cause: e });
  }
  const transcript = concatBytes(utf8(inviteId), existing, fresh);
  const key = await crypto.sha256(concatBytes(utf8("parley-link-key-v1"), shared, transcript));
  const digest = await crypto.sha256(concatBytes(utf8("parley-link-code-v1"), transcript));
  const n = ((digest[0]! << 24) | (digest[1]! << 16) | (digest[2]! << 8) | digest[3]!) >>> 0;
  return { key, code: (n % 1_000_000).toString().padStart(6, "0") };
}

/** The hello carries the new device's ephemeral key in clear (32 bytes) before its sealed step. */
export async function sealHello(
  crypto: CryptoProvider,
  key: Uint8Array,
  ephemeral: Uint8Array,
  hello: z.infer<typeof LinkHello>,
): Promise<Uint8Array> {
  return concatBytes(ephemeral, await sealLinkStep(crypto, key, hello));
}

export function splitHello(bytes: Uint8Array): { ephemeral: Uint8Array; sealed: Uint8Array } {
  if (bytes.length < 33) throw new LinkError("the new device's hello is malformed");
  return { ephemeral: bytes.slice(0, 32), sealed: bytes.slice(32) };
}

/** Steps are padded as relay envelopes (the caller pads what it sends), not here. */
export const sealLinkStep = (crypto: CryptoProvider, key: Uint8Array, step: LinkStep) =>
  crypto.seal(key, utf8(JSON.stringify(step)), STEP_AAD);

/** Opens one step and checks that it is the one expected next. */
export async function openLinkStep<S extends LinkStep["step"]>(
  crypto: CryptoProvider,
  key: Uint8Array,
  sealed: Uint8Array,
  expected: S | readonly S[],
): Promise<Extract<LinkStep, { step: S }>> {
  const allowed: readonly string[] = typeof expected === "string" ? [expected] : expected;
  let plain: Uint8Array;
  try {
    plain = await crypto.open(key, sealed, STEP_AAD);
  } catch {
    throw new LinkError("a step of the link could not be opened (not from the other device)");
  }
  const parsed = LinkStep.safeParse(parseJson(plain, false));
  if (!parsed.success) {
    const where = parsed.error.issues[0]?.path.join(".") ?? "";
    throw new LinkError(`the link step "${allowed.join('" or "')}" is malformed (at "${where}")`);
  }
  if (!allowed.includes(parsed.data.step)) {
    throw new LinkError(`expected the link step "${allowed.join('" or "')}", got "${parsed.data.step}"`);
  }
  return parsed.data as Extract<LinkStep, { step: S }>;
}
