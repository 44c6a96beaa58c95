/**
 * Pure helpers for group chats in the UI: plain-language errors and notices, the "who joined / left /
 * became admin" lines a chat shows, and merging those lines with messages. No React, no engine
 * calls. The engine reports codes, kinds and people (identity keys and names); the words are here.
 */
import {
  type ClientEvent,
  InviteError,
  ParleyError,
  type PersonRef,
  type Rejection,
  RelayError,
} from "@parley/core";

/** A line in a chat that is not a message: "Carol joined", "You renamed the group to …". */
export interface SystemLine {
  id: string;
  at: number; // ms since the epoch, on this device
  text: string;
}

const capitalize = (s: string) => (s ? s[0]!.toUpperCase() + s.slice(1) : s);

/** "Bob", "Bob and Carol", "Bob, Carol and Dana". */
export function joinNames(names: string[]): string {
  if (names.length <= 1) return names[0] ?? "";
  return `${names.slice(0, -1).join(", ")} and ${names.at(-1)}`;
}

/**
 * A person's name as the app shows it: ours for a contact, their own for another member, and for
 * someone who has not told the group their name yet, "Member" and the start of their key.
 */
export function personName(p: PersonRef): string {
  return p.name ?? `Member ${p.identityKey.slice(0, 6)}`;
}

/** Someone who has not told the group their name yet (and is not our contact). */
export const isUnnamed = (p: PersonRef): boolean => p.name === null;

/** Sentences for a `members` event: who was added, who is no longer in the group. */
export function describeMembers(added: PersonRef[], removed: PersonRef[]): string[] {
  const named = (p: PersonRef) => (p.relation === "me" ? "you" : personName(p));
  const joined = added.filter((p) => !isUnnamed(p)).map(named);
  const strangers = added.length - joined.length;
  if (strangers > 0) joined.push(strangers === 1 ? "a new member" : `${strangers} new members`);
  const gone = removed.map((p) => (isUnnamed(p) ? "a member" : named(p)));
  const lines: string[] = [];
  if (joined.length) {
    const plural = joined.length > 1 || strangers > 1;
    lines.push(capitalize(`${joinNames(joined)} ${plural ? "were" : "was"} added`));
  }
  if (gone.length) {
    lines.push(capitalize(`${joinNames(gone)} ${gone.length === 1 ? "is" : "are"} no longer in the group`));
  }
  return lines;
}

/** Sentences for a `roles` event: who became an admin, who no longer is. */
export function describeRoles(promoted: PersonRef[], demoted: PersonRef[]): string[] {
  const line = (p: PersonRef, admin: boolean) => {
    const who = p.relation === "me" ? "You" : personName(p);
    const be = p.relation === "me" ? "are" : "is";
    return admin ? `${who} ${be} now an admin` : `${who} ${be} no longer an admin`;
  };
  return [...promoted.map((p) => line(p, true)), ...demoted.map((p) => line(p, false))];
}

/** A group this device can no longer take part in after an upgrade (status "needs-readd"). */
export const NEEDS_READD =
  "This group needs you to be re-added: after an upgrade of Parley this device could not carry on in it. Ask an admin to remove you and add you again.";

const NETWORK = "Parley could not reach the relay. Check your connection and try again.";

/**
 * Turns an engine or network error into a sentence a person can act on, from its code and data
 * (never from its message text).
 */
export function friendlyError(error: unknown): string {
  if (error instanceof ParleyError) {
    const e = error as ParleyError;
    switch (e.code) {
      case "no_key_package": {
        const who = (e as ParleyError<"no_key_package">).data.contact;
        return `${who} can’t be added yet: their Parley has not been online since you connected. Ask ${who} to open Parley once, then try again.`;
      }
      case "not_admin":
        return "Only the group’s admins can do that.";
      case "last_admin":
        return (e as ParleyError<"last_admin">).data.leaving
          ? "You are the only admin. Make someone else an admin before you leave."
          : "A group needs at least one admin.";
      case "already_member":
        return `${(e as ParleyError<"already_member">).data.contact} is already in this group.`;
      case "needs_readd":
        return NEEDS_READD;
      case "not_member":
        return (e as ParleyError<"not_member">).data.who === undefined
          ? "You are no longer a member of this group."
          : "That person is not in this group any more.";
      case "bad_name": {
        const { kind, ...issue } = (e as ParleyError<"bad_name">).data;
        const what = kind === "group name" ? "group name" : "name";
        if (issue.issue === "length") return `A ${what} has 1 to ${issue.max} characters.`;
        if (issue.issue === "unsafe_character")
          return `A ${what} must be one line, without control or invisible formatting characters.`;
        return `A ${what} may use a zero-width joiner only between two characters.`;
      }
      case "blocked":
        return `You blocked ${(e as ParleyError<"blocked">).data.contact}. Unblock them to write to them.`;
      case "name_taken":
        return `You already have a contact called “${(e as ParleyError<"name_taken">).data.name}”. Choose another name.`;
      case "key_not_accepted":
        return `${(e as ParleyError<"key_not_accepted">).data.contact}’s safety number changed. Accept the change, or compare the safety number again, before you write to them.`;
      case "not_ready":
        return "This contact has not finished connecting yet. Try again in a moment.";
      case "too_long": {
        const { max, length } = (e as ParleyError<"too_long">).data;
        return `This message is too long to send: ${length.toLocaleString()} characters, at most ${max.toLocaleString()}. Nothing was sent; your text is still in the box.`;
      }
      case "empty":
        return (e as ParleyError<"empty">).data.what === "contacts"
          ? "Choose at least one person."
          : "Write something first.";
      case "file_too_large": {
        const d = (e as ParleyError<"file_too_large">).data;
        return `It is ${(d.size / 1e6).toFixed(1)} MB; this relay takes files up to ${(d.max / 1e6).toFixed(1)} MB. Nothing was uploaded.`;
      }
      case "file_tampered":
        return "It was altered on the way or on the relay, so it was not opened or saved.";
      case "file_gone":
        return "The relay no longer has it: it expired.";
      case "file_deleted":
        return "The sender deleted this file. It cannot be downloaded any more.";
      case "not_deletable":
        return "Only its sender can delete this file, from the device that sent it.";
      case "file_changed":
        return "The file changed while it was being sent. Send it again.";
      case "metadata_not_removable":
        return "Parley cannot remove this picture's metadata (location, camera, times), so it was not sent.";
      case "bad_file":
        return "This image is damaged: its metadata could not be removed safely.";
      case "unknown_contact":
      case "unknown_group":
      case "unknown_conversation":
        return "That conversation is not on this device.";
      case "unknown_message":
      case "ambiguous_message":
        return "That message is not on this device any more.";
      case "message_deleted":
        return "That message was deleted.";
      case "not_your_message":
        return "Only the person who wrote a message can change or delete it.";
      case "bad_reaction":
        return "A reaction is one emoji.";
      default:
        return "Something went wrong. Try again.";
    }
  }
  if (error instanceof InviteError) {
    switch (error.reason) {
      case "gone":
        return "This invite was already used or has expired. Ask for a new one.";
      case "wrong_key":
        return "This link does not open the invite: check that the whole link was copied. The invite is still unused.";
      case "own_invite":
        return "This is your own invite: send it to the person you want to talk to.";
      default:
        return "This is not a valid Parley invite link.";
    }
  }
  if (error instanceof RelayError) return NETWORK;
  // fetch() itself failed (offline, DNS, CORS): a TypeError from the platform.
  if (error instanceof TypeError) return NETWORK;
  // Not the engine's (the app's own checks): their message is already a sentence for a person.
  return (
    capitalize(error instanceof Error ? error.message : String(error)) || "Something went wrong. Try again."
  );
}

/** Work the app does for the person, or in the background, that can fail: each has its sentence. */
export type Failed =
  | "load-conversations"
  | "refresh-conversations"
  | "load-messages"
  | "load-members"
  | "load-profile"
  | "load-settings"
  | "mark-read"
  | "chat-line"
  | "send"
  | "send-file"
  | "react"
  | "edit"
  | "delete-message"
  | "get-file"
  | "search"
  | "lock"
  | "wipe";

const FAILED: Record<Failed, string> = {
  "load-conversations": "Could not load your conversations.",
  "refresh-conversations": "Could not update your list of conversations.",
  "load-messages": "Could not load messages.",
  "load-members": "Could not load the group’s members.",
  "load-profile": "Could not read your profile on this device.",
  "load-settings": "Could not read your settings on this device: notifications stay off.",
  "mark-read": "Could not save which messages you have read: they may show as unread again.",
  "chat-line": "A line for a chat’s history (such as who joined a group) could not be saved.",
  send: "Your message was not sent.",
  "send-file": "Your file was not sent.",
  react: "Your reaction was not sent.",
  edit: "Your edit was not sent.",
  "delete-message": "The message was not deleted.",
  "get-file": "The file could not be fetched.",
  search: "The search did not finish.",
  lock: "Parley could not lock.",
  wipe: "This device was not wiped.",
};

/** A notice for the banner: what failed, then why, in words (`friendlyError`). */
export function failureNotice(what: Failed, error: unknown): string {
  return `${FAILED[what]} ${friendlyError(error)}`;
}

/**
 * A `not_member` (or `needs_readd`) error: the group was left, we were removed, or this device must
 * be re-added, so there are no members to show. A
 * members refresh racing with such a change expects it; the chat's own status line says what happened.
 */
export function isNoLongerMember(error: unknown): boolean {
  return error instanceof ParleyError && (error.code === "not_member" || error.code === "needs_readd");
}

/** The lines a group chat shows for a `group` event ("Bob was added"); none for a queue move. */
export function groupEventLines(event: Extract<ClientEvent, { type: "group" }>): string[] {
  switch (event.change) {
    case "joined":
      return [`${personName(event.by)} added you to the group`];
    case "members":
      return describeMembers(event.added, event.removed);
    case "roles":
      return describeRoles(event.promoted, event.demoted);
    case "renamed":
      return [`The group is now called “${event.name}”`];
    case "removed":
      return ["An admin removed you from the group"];
    case "needs-readd":
      return [NEEDS_READD];
    case "moved":
      return [];
  }
}

/** Why a message was dropped, for a notice. */
export function rejectionNotice(r: Rejection): string {
  switch (r.reason) {
    case "messages_expired":
      return "Some group messages expired on the relay before this device could read them.";
    case "inviter_not_admin":
      return `${personName(r.inviter)} tried to add you to “${r.group}” without being its admin: the invite was ignored.`;
    case "already_in_group":
    case "group_id_reused":
      return `${personName(r.inviter)} sent an invite that would replace a conversation you have: it was ignored.`;
    case "too_many_held":
      return "Too many messages arrived ahead of the changes they need: some were dropped.";
    case "not_author":
      return `Someone tried to ${r.change} a message they did not write: it was ignored.`;
    default:
      return "Parley dropped a message it could not verify.";
  }
}

/**
 * Where an event that is not a message goes: a notice for the person, a line in a chat, or the
 * console only (things that fix themselves).
 */
export function eventNotice(
  e: Extract<ClientEvent, { type: "rejected" | "warning" | "failure" }>,
): { notice: string } | { line: string; conversationId: string } | { console: string } {
  if (e.type === "rejected") return { notice: rejectionNotice(e) };
  if (e.type === "failure") return { console: `${e.source}: ${e.cause}` };
  switch (e.code) {
    case "messages_missing": {
      const n = e.count;
      const line = `${n} message${n === 1 ? "" : "s"} from ${personName(e.sender)} did not arrive (the relay may have dropped ${n === 1 ? "it" : "them"})`;
      return { line, conversationId: e.conversationId };
    }
    case "followup_failed":
      // A receipt or key packages not sent: nothing was lost and nobody needs to act.
      return { console: `could not send ${e.followup}: ${e.cause}` };
    case "queue_renewed":
      return { console: `a ${e.kind} conversation moved to a new queue` };
    case "send_failed":
      return { notice: `A message could not be sent: the relay refused it (${e.cause}).` };
  }
}

/** Messages and system lines, in one time order (ties keep messages first). */
export function mergeTimeline<M>(
  messages: M[],
  timeOf: (m: M) => number,
  lines: SystemLine[],
): ({ kind: "message"; message: M } | { kind: "system"; line: SystemLine })[] {
  const out: ({ kind: "message"; message: M } | { kind: "system"; line: SystemLine })[] = [];
  let i = 0;
  const sorted = [...lines].sort((a, b) => a.at - b.at);
  for (const message of messages) {
    const t = timeOf(message);
    while (i < sorted.length && sorted[i]!.at < t) out.push({ kind: "system", line: sorted[i++]! });
    out.push({ kind: "message", message });
  }
  while (i < sorted.length) out.push({ kind: "system", line: sorted[i++]! });
  return out;
}
