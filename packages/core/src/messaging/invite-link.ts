/**
 * Invite links: `<relay URL>/#/invite/<inviteId>/<key>`. The part after `#` never reaches a server
 * (browsers do not send fragments), so the relay that stores the sealed invite cannot open it.
 */
import { z } from "zod";
import { DisplayName } from "../content/index.js";
import type { CryptoProvider } from "../crypto/provider.js";
import { fromBase64Url, toBase64Url } from "../encoding/base64url.js";
import { fromUtf8, utf8 } from "../encoding/bytes.js";
import { PaddingError, pad, unpad } from "../protocol/padding.js";
import { normalizeRelayUrl } from "../relay-client/relay-http.js";

export class InviteError extends Error {
  override name = "InviteError";
  constructor(
    message: string,
    /**
     * `wrong_key`: the link's key does not open the sealed invite (mistyped, or tampered with);
     * `gone`: used or expired; `own_invite`: our own link; `invalid`: anything else.
     */
    readonly reason: "wrong_key" | "gone" | "own_invite" | "invalid" = "invalid",
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export interface InviteLink {
  relay: string;
  inviteId: string;
  key: Uint8Array;
}

export function formatInviteLink(link: InviteLink): string {
  return `${link.relay}/#/invite/${link.inviteId}/${toBase64Url(link.key)}`;
}

export function parseInviteLink(text: string): InviteLink {
  const match = /^(https?:\/\/[^#\s]+?)\/?#\/invite\/([A-Za-z0-9_-]{22})\/([A-Za-z0-9_-]{43})$/.exec(
    text.trim(),
  );
  if (!match) throw new InviteError("not a Parley invite link (expected <relay>/#/invite/<id>/<key>)");
  // Found by fuzzing: a relay part that is no URL (`https:///`, `http://[`) threw RelayError, and a
  // key with non-canonical trailing bits EncodingError. A link is someone else's text: one error type.
  try {
    return { relay: normalizeRelayUrl(match[1]!), inviteId: match[2]!, key: fromBase64Url(match[3]!) };
  } catch (e) {
    throw new InviteError(`not a valid Parley invite link: ${(e as Error).message}`, "invalid", {
      cause: e,
    });
  }
}

/** What the inviter seals into the invite: where to reach them, and an MLS KeyPackage to add them with. */
export const InvitePayload = z.object({
  v: z.literal(1),
  name: DisplayName,
  sendId: z.string().min(1).max(64),
  // base64url, checked here: decoding it later must not be the first place it can fail.
  keyPackage: z
    .string()
    .min(1)
    .max(32 * 1024)
    .regex(/^[A-Za-z0-9_-]+$/),
});
export type InvitePayload = z.infer<typeof InvitePayload>;

const AAD = utf8("parley-invite-v1");

/**
 * The payload is padded (protocol/padding.ts) before sealing, so the stored blob's size does not
 * follow the length of the inviter's name: every invite is one bucket (2 KiB) in practice.
 */
export async function sealInvite(crypto: CryptoProvider, key: Uint8Array, payload: InvitePayload) {
  return crypto.seal(key, pad(utf8(JSON.stringify(payload))), AAD);
}

/** Invites sealed before padding (a JSON object, so its first byte is `{`) are still read. */
function unpadInvite(plain: Uint8Array): Uint8Array {
  if (plain[0] === 0x7b) return plain;
  try {
    return unpad(plain);
  } catch (e) {
    if (e instanceof PaddingError) throw new InviteError("invite is malformed");
    throw e;
  }
}

export async function openInvite(
  crypto: CryptoProvider,
  key: Uint8Array,
  sealed: Uint8Array,
): Promise<InvitePayload> {
  let plain: Uint8Array;
  try {
    plain = await crypto.open(key, sealed, AAD);
  } catch {
    throw new InviteError(
      "invite could not be opened: the link is wrong or the invite was tampered with",
      "wrong_key",
    );
  }
  // Whoever made the link chose the key, so a sealed payload that opens is still untrusted input:
  // bytes that are not UTF-8 JSON threw TypeError/SyntaxError here (found by fuzzing).
  let value: unknown;
  try {
    value = JSON.parse(fromUtf8(unpadInvite(plain)));
  } catch (e) {
    if (e instanceof InviteError) throw e;
    throw new InviteError("invite is malformed");
  }
  const parsed = InvitePayload.safeParse(value);
  if (!parsed.success) throw new InviteError("invite is malformed");
  return parsed.data;
}
