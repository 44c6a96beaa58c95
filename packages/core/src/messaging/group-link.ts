/**
 * Group invite links: `<relay URL>/#/join/<inviteId>/<key>`. Like a contact invite
 * (invite-link.ts) the relay stores a sealed blob it cannot open, but the blob is only ever peeked,
 * never claimed: one link lets many people ask to join until it expires or its admin revokes it
 * (revoking claims it, which takes it off the relay).
 *
 * Three sealed things travel, each under its own AAD so none can stand in for another:
 * - the link payload (sealed with the link's key): which group, whose join queue, expiry, approval;
 * - a join request (sealed with the link's key, sent to the join queue): the joiner's name,
 *   KeyPackage and where to answer, with a fresh key for that answer;
 * - the answer (sealed with the request's reply key, sent to the joiner's queue): the Welcome.
 */
import { z } from "zod";
import { DisplayName, GroupInviteBody } from "../content/index.js";
import type { CryptoProvider } from "../crypto/provider.js";
import { fromBase64Url, toBase64Url } from "../encoding/base64url.js";
import { fromUtf8, utf8 } from "../encoding/bytes.js";
import { PaddingError, pad, unpad } from "../protocol/padding.js";
import { normalizeRelayUrl } from "../relay-client/relay-http.js";
import { GroupName } from "./group-metadata.js";
import { InviteError, type InviteLink } from "./invite-link.js";

export function formatGroupLink(link: InviteLink): string {
  return `${link.relay}/#/join/${link.inviteId}/${toBase64Url(link.key)}`;
}

/** A group link (as opposed to a contact invite link), as far as its shape tells. */
export const isGroupLink = (text: string): boolean => /#\/join\//.test(text);

export function parseGroupLink(text: string): InviteLink {
  const match = /^(https?:\/\/[^#\s]+?)\/?#\/join\/([A-Za-z0-9_-]{22})\/([A-Za-z0-9_-]{43})$/.exec(
    text.trim(),
  );
  if (!match) throw new InviteError("not a Parley group link (expected <relay>/#/join/<id>/<key>)");
  try {
    return { relay: normalizeRelayUrl(match[1]!), inviteId: match[2]!, key: fromBase64Url(match[3]!) };
  } catch (e) {
    throw new InviteError(`not a valid Parley group link: ${(e as Error).message}`, "invalid", { cause: e });
  }
}

const B64Url = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(/^[A-Za-z0-9_-]+$/);

export const GroupLinkPayload = z.object({
  v: z.literal(1),
  /** The group's name when the link was made: shown before joining, the Welcome's name wins. */
  group: GroupName,
  /** The MLS group id: the Welcome that answers must be for this group. */
  groupId: B64Url(64),
  /** The admin who made the link: the Welcome's group must still have them as admin. */
  admin: B64Url(64),
  /** The group's MLS cipher suite (its id): the joiner's KeyPackage must be of it. */
  suite: z.number().int().nonnegative().max(0xffff),
  sendId: z.string().min(1).max(64),
  expiresAt: z.number().int().nonnegative().optional(),
  approve: z.boolean(),
});
export type GroupLinkPayload = z.infer<typeof GroupLinkPayload>;

export const JoinRequest = z.object({
  v: z.literal(1),
  name: DisplayName,
  keyPackage: B64Url(32 * 1024),
  reply: z.object({ relay: z.string().url().max(2048), sendId: z.string().min(1).max(64) }),
  replyKey: B64Url(43),
});
export type JoinRequest = z.infer<typeof JoinRequest>;

/** The answer: what a `group-invite` carries in a 1:1 chat, sent where the request asked. */
export const JoinAnswer = GroupInviteBody;
export type JoinAnswer = z.infer<typeof JoinAnswer>;

const AAD = {
  link: utf8("parley-group-link-v1"),
  request: utf8("parley-group-join-v1"),
  answer: utf8("parley-group-welcome-v1"),
} as const;

/** Padded (protocol/padding.ts) before sealing: sizes do not follow names or key lengths. */
export async function sealGroupLinkPart(
  crypto: CryptoProvider,
  part: keyof typeof AAD,
  key: Uint8Array,
  value: GroupLinkPayload | JoinRequest | JoinAnswer,
): Promise<Uint8Array> {
  return crypto.seal(key, pad(utf8(JSON.stringify(value))), AAD[part]);
}

const schemas = { link: GroupLinkPayload, request: JoinRequest, answer: JoinAnswer } as const;
type Parts = { link: GroupLinkPayload; request: JoinRequest; answer: JoinAnswer };

/** Opens and checks one part. Whoever holds the key chose the bytes: they are untrusted input. */
export async function openGroupLinkPart<P extends keyof typeof AAD>(
  crypto: CryptoProvider,
  part: P,
  key: Uint8Array,
  sealed: Uint8Array,
): Promise<Parts[P]> {
  let plain: Uint8Array;
  try {
    plain = await crypto.open(key, sealed, AAD[part]);
  } catch {
    throw new InviteError(
      part === "link"
        ? "this link's key does not open the group invite: check that the whole link was copied"
        : `a group ${part === "request" ? "join request" : "join answer"} that does not open (tampered with?)`,
      "wrong_key",
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(fromUtf8(unpad(plain)));
  } catch (e) {
    if (e instanceof PaddingError || e instanceof SyntaxError || e instanceof TypeError) {
      throw new InviteError(`group ${part} is malformed`);
    }
    throw e;
  }
  const parsed = schemas[part].safeParse(value);
  if (!parsed.success) throw new InviteError(`group ${part} is malformed`);
  return parsed.data as Parts[P];
}
