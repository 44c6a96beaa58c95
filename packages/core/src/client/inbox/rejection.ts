/**
 * Why a delivery was dropped, as a kind with data. Throwing a RejectionError (or one of the
 * lower layers' "this message is bad" errors, see `rejectionOf`) from anywhere in the inbox drops
 * the delivery: none of its writes are kept, only its "seen" mark.
 */
import { ContentError } from "../../content/index.js";
import { InviteError } from "../../messaging/invite-link.js";
import { MlsProcessingError } from "../../mls/engine.js";
import { PaddingError } from "../../protocol/padding.js";
import type { PersonRef } from "../views.js";

export type Rejection =
  /** Not a well-formed envelope or content (padding, JSON, schema). */
  | { reason: "malformed"; detail: string }
  /** MLS refused it: a forgery, a tampered message, a commit the group's rules forbid. */
  | { reason: "mls"; detail: string }
  /** A 1:1 message from an identity that is not this contact. */
  | { reason: "wrong_sender"; conversationId: string }
  /**
   * Signed with a device key its owner replaced by a key reset (client/reset/): what a copy of their
   * old device state sends, or a commit giving that leaf some other new identity.
   */
  | { reason: "revoked_device"; conversationId: string; by: PersonRef }
  /** A kind that does not belong in this kind of conversation. */
  | { reason: "misplaced"; body: string; conversation: "direct" | "group"; conversationId: string }
  | { reason: "foreign_key_package"; conversationId: string }
  | { reason: "unknown_key_package"; conversationId: string }
  | { reason: "group_without_metadata"; conversationId: string }
  | { reason: "inviter_not_admin"; inviter: PersonRef; group: string }
  /** An invite to a group we are in: it would replace the group (a takeover). */
  | { reason: "already_in_group"; inviter: PersonRef; group: string }
  /** An invite under the id of a conversation we have that it may not replace. */
  | { reason: "group_id_reused"; inviter: PersonRef }
  | { reason: "invite_answer_reused_id" }
  | { reason: "invite_already_answered" }
  | { reason: "invite_answer_not_two" }
  | { reason: "queue_move_not_admin"; conversationId: string }
  /** A group's disappearing-messages timer set by a member who is not an admin. */
  | { reason: "expire_not_admin"; conversationId: string }
  /** An edit or deletion of a message by someone other than its author. */
  | { reason: "not_author"; conversationId: string; change: "edit" | "delete" }
  | { reason: "unknown_queue" }
  /** A join request read after the group link's expiry (client/group-links/). */
  | { reason: "group_link_expired"; conversationId: string }
  /** An answer to our join request for another group than the link's, or not from its admins. */
  | { reason: "join_answer_wrong_group"; group: string }
  /** Too many messages of later epochs wait for their commit already. */
  | { reason: "too_many_held"; conversationId: string }
  /** Group messages expired on the relay before this device read them. */
  | { reason: "messages_expired"; queueId: string }
  /** A post, a post's deletion or a malformed post from someone other than the feed's owner. */
  | { reason: "not_post_owner"; conversationId: string }
  /** A comment, like or deletion of a post this device does not have (before our time, or gone). */
  | { reason: "unknown_post"; conversationId: string }
  /** A post with neither text nor photo. */
  | { reason: "empty_post"; conversationId: string }
  /** Post kinds outside a feed group, or chat kinds inside one. */
  | { reason: "not_a_feed"; conversationId: string };

export class RejectionError extends Error {
  override name = "RejectionError";
  constructor(readonly rejection: Rejection) {
    super(`rejected: ${rejection.reason}`);
  }
}

export const reject = (rejection: Rejection): never => {
  throw new RejectionError(rejection);
};

/** The rejection an error stands for, or undefined for a local failure (retried later). */
export function rejectionOf(e: unknown): Rejection | undefined {
  if (e instanceof RejectionError) return e.rejection;
  if (e instanceof MlsProcessingError) return { reason: "mls", detail: e.message };
  if (e instanceof PaddingError || e instanceof ContentError || e instanceof InviteError)
    return { reason: "malformed", detail: e.message };
  return undefined;
}
