/**
 * Events the engine reports from `sync`, `receive` and `listen`: kinds and data, never sentences.
 */
import type { JoinRequestView } from "./group-links/requests.js";
import type { Rejection } from "./inbox/rejection.js";
import type { ContactView, MessageView, PersonRef } from "./views.js";

export type GroupChange =
  /** We were added, by `by` (the contact whose invite we accepted). */
  | { change: "joined"; by: PersonRef }
  /**
   * `removed`: taken out by a commit; `left`: left on their own (their leave mark: docs/protocol.md,
   * "Leaving"), reported once, when they leave — their removal, whoever commits it later, is not
   * reported again.
   */
  | { change: "members"; added: PersonRef[]; removed: PersonRef[]; left: PersonRef[] }
  | { change: "renamed"; from: string }
  | { change: "roles"; promoted: PersonRef[]; demoted: PersonRef[] }
  /** An admin removed us: the group's keys are gone from this device. */
  | { change: "removed" }
  /**
   * Another device of ours revoked this one (`parley device revoke`): it was taken out of our
   * devices' own group, as of every chat and group, and reads nothing new.
   */
  | { change: "revoked" }
  /** The group moved to a new queue (after a removal). */
  | { change: "moved" }
  /**
   * This device's MLS state of the group could not be carried over to the current engine (see
   * store/migrations.ts, version 4): it can no longer read or send in the group until an admin
   * removes and re-adds it. History stays. `reason` is a diagnostic, in English.
   */
  | { change: "needs-readd"; reason: string }
  /**
   * This device can no longer follow the group (a dead epoch, client/groups/dead-epoch.ts): the
   * commits it missed expired from the relay (`messages_expired`), or it could not process one
   * (`commit_unreadable`). Its keys of the group are gone; it asked `admin` (a contact who is one of
   * the group's admins) to re-add it, or, with no admin among its contacts, could ask no one.
   * Sending fails with `needs_readd` until the admin's Welcome arrives (then: `joined`).
   */
  | { change: "readd-requested"; cause: DeadEpochCause; admin?: PersonRef };

/** Why a device could no longer follow a group. */
export type DeadEpochCause = "messages_expired" | "commit_unreadable";

/** Follow-up work a delivery asked for, by kind (see followups/). */
export type FollowupKind =
  | "receipt"
  | "key-packages"
  | "group-profile"
  | "remove-leaver"
  | "group-order"
  | "reply-to"
  | "profile"
  /** Adding someone who asked through a group link that needs no approval (group-links/). */
  | "group-link-add"
  /** Re-adding a member's device that asked for it (client/groups/dead-epoch.ts). */
  | "group-readd"
  /** Carrying a conversation over to new keys (client/reset/). */
  | "reset"
  /** Removing a revoked device of ours (client/devices/revoke.ts). */
  | "revoke";

/**
 * Something this device could not do on its own, with nothing lost: a follow-up that could not be
 * sent, a conversation re-established after its queue vanished from the relay, messages a sender
 * sent that never arrived (gaps in the sender's MLS generation counter).
 */
export type Warning =
  | { code: "followup_failed"; followup: FollowupKind; cause: string }
  | { code: "queue_renewed"; kind: "direct" | "group" }
  | { code: "messages_missing"; count: number; sender: PersonRef }
  /** The relay refused a message of ours for good (outbox-delivery.ts): it is marked "failed". */
  | { code: "send_failed"; messageId: string; cause: string };

export type ClientEvent =
  | { type: "message"; message: MessageView }
  /** `key-reset`: the contact reset their keys (a new identity key; client/reset/received.ts). */
  | {
      type: "contact";
      contact: ContactView;
      change: "added" | "renamed" | "key-changed" | "key-reset" | "photo";
    }
  | ({ type: "group"; conversationId: string; name: string } & GroupChange)
  | { type: "delivered"; conversationId: string; ids: string[] }
  /**
   * `by` linked (`added`) or revoked (`removed`) devices of theirs in this conversation: the same
   * person, so the same safety number; shown so that a device nobody expected can be noticed.
   * `by.relation === "me"`: our own devices.
   */
  | { type: "devices"; conversationId: string; by: PersonRef; added: number; removed: number }
  /** The conversation's disappearing-messages timer, in seconds (null: off), set by `by`. */
  | { type: "expire"; conversationId: string; seconds: number | null; by: PersonRef }
  /** Messages a disappearing-messages timer deleted from this device (content ids). */
  | { type: "expired"; conversationId: string; ids: string[] }
  /** `by` read these messages of ours (a read receipt). */
  | { type: "read"; conversationId: string; ids: string[]; by: PersonRef }
  /** `by` started (`typing`) or stopped writing in the conversation: shown for a few seconds. */
  | { type: "typing"; conversationId: string; by: PersonRef; typing: boolean }
  /**
   * A message changed: its author edited or deleted it, or someone (`by`) reacted to it or took
   * their reaction back. `message`: the message as it is now.
   */
  | { type: "updated"; change: "edited" | "deleted" | "reaction"; by: PersonRef; message: MessageView }
  /** Messages of ours that waited in the outbox and that the relay has now taken. */
  | { type: "sent"; conversationId: string; ids: string[] }
  /** Someone asked to join `group` through its link, which needs an admin's approval. */
  | { type: "join-request"; conversationId: string; group: string; request: JoinRequestView }
  /** A message that was dropped: forged, tampered, malformed, or not allowed. Nothing of it was kept. */
  | ({ type: "rejected" } & Rejection)
  | ({ type: "warning"; conversationId: string } & Warning)
  /**
   * `listen` could not handle a delivery (a local failure: the store, the lock) or the relay said
   * something unexpected; the delivery is not acknowledged and comes again.
   */
  | { type: "failure"; source: "relay" | "local"; cause: string }
  | { type: "status"; status: "connecting" | "open" | "closed"; detail?: string }
  /** The feed changed (posts/): a post arrived or was deleted, or `by` commented or liked. */
  | { type: "post"; change: "posted" | "deleted" | "comment" | "like"; postId: string; by: PersonRef };
