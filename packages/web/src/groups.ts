/**
 * Pure helpers for group chats in the UI: plain-language errors and notices, the "who joined / left /
 * became admin" lines a chat shows, and merging those lines with messages. No React, no engine
 * calls. The engine reports codes, kinds and people (identity keys and names); the words are here.
 */
import {
  type ClientEvent,
  EncryptedStoreError,
  InviteError,
  LinkError,
  ParleyError,
  type PersonRef,
  type Rejection,
  RelayError,
} from "@parley/core";
import { formatNumber } from "./format.js";
import { joinList, t } from "./i18n.js";
import type { LineEvent, SystemLine } from "./lines.js";

const capitalize = (s: string) => (s ? s[0]!.toUpperCase() + s.slice(1) : s);

/** "Bob", "Bob and Carol", "Bob, Carol and Dana" (Intl.ListFormat: "Bob、Carol和Dana"). */
export function joinNames(names: string[]): string {
  return joinList(names);
}

/**
 * A person's name as the app shows it: ours for a contact, their own for another member, and for
 * someone who has not told the group their name yet, "Member" and the start of their key.
 */
export function personName(p: PersonRef): string {
  return p.name ?? t("common.member", { key: p.identityKey.slice(0, 6) });
}

/** Only what a stored line needs of a person (a member view carries its role and more). */
export const personRef = (p: PersonRef): PersonRef => ({
  identityKey: p.identityKey,
  name: p.name,
  relation: p.relation,
});

/** Someone who has not told the group their name yet (and is not our contact). */
export const isUnnamed = (p: PersonRef): boolean => p.name === null;

/** Sentences for a `members` event: who was added, who is no longer in the group. */
export function describeMembers(added: PersonRef[], removed: PersonRef[], left: PersonRef[] = []): string[] {
  const named = (p: PersonRef) => (p.relation === "me" ? t("common.youLower") : personName(p));
  const joined = added.filter((p) => !isUnnamed(p)).map(named);
  const strangers = added.length - joined.length;
  if (strangers > 0) joined.push(t("lines.newMember", { count: strangers }));
  const gone = removed.map((p) => (isUnnamed(p) ? t("lines.aMember") : named(p)));
  const lines: string[] = [];
  if (joined.length) {
    // The verb agrees with the whole list ("Bob and a new member were added").
    const count = joined.length > 1 || strangers > 1 ? 2 : 1;
    lines.push(capitalize(t("lines.added", { count, names: joinNames(joined) })));
  }
  if (gone.length) {
    lines.push(capitalize(t("lines.gone", { count: gone.length, names: joinNames(gone) })));
  }
  const leavers = left.map((p) => (isUnnamed(p) ? t("lines.aMember") : named(p)));
  if (leavers.length) {
    lines.push(capitalize(t("lines.left", { count: leavers.length, names: joinNames(leavers) })));
  }
  return lines;
}

/** Sentences for a `roles` event: who became an admin, who no longer is. */
export function describeRoles(promoted: PersonRef[], demoted: PersonRef[]): string[] {
  const line = (p: PersonRef, admin: boolean) => {
    if (p.relation === "me") return admin ? t("lines.youNowAdmin") : t("lines.youNoLongerAdmin");
    const who = personName(p);
    return admin ? t("lines.nowAdmin", { who }) : t("lines.noLongerAdmin", { who });
  };
  return [...promoted.map((p) => line(p, true)), ...demoted.map((p) => line(p, false))];
}

/** A group this device can no longer take part in after an upgrade (status "needs-readd"). */
export const needsReadd = (): string => t("errors.needsReadd");

const network = (): string => t("errors.network");

/** A size in decimal units, as file managers show them: "3.4 MB". */
export function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

/**
 * Turns an engine or network error into a sentence a person can act on, from its code and data
 * (never from its message text).
 */
export function friendlyError(error: unknown): string {
  if (error instanceof ParleyError) return parleyErrorText(error);
  if (error instanceof InviteError) {
    switch (error.reason) {
      case "gone":
        return t("errors.invite_gone");
      case "wrong_key":
        return t("errors.invite_wrong_key");
      case "own_invite":
        return t("errors.invite_own");
      default:
        return t("errors.invite_bad");
    }
  }
  if (error instanceof LinkError) return t(`linkDevice.error_${error.reason}`);
  if (error instanceof EncryptedStoreError)
    return error.code === "wrong_passphrase" ? t("unlock.wrong") : t(`errors.store_${error.code}`);
  if (error instanceof RelayError) return network();
  // fetch() itself failed (offline, DNS, CORS): a TypeError from the platform.
  if (error instanceof TypeError) return network();
  // Not the engine's (the app's own checks): their message is already a sentence for a person.
  return capitalize(error instanceof Error ? error.message : String(error)) || t("errors.generic");
}

function parleyErrorText(e: ParleyError): string {
  switch (e.code) {
    case "no_key_package":
      return t("errors.no_key_package", { who: (e as ParleyError<"no_key_package">).data.contact });
    case "not_admin":
      return t("errors.not_admin");
    case "last_admin":
      return (e as ParleyError<"last_admin">).data.leaving
        ? t("errors.last_admin_leaving")
        : t("errors.last_admin");
    case "already_member":
      return t("errors.already_member", { who: (e as ParleyError<"already_member">).data.contact });
    case "needs_readd":
      return needsReadd();
    case "not_member":
      return (e as ParleyError<"not_member">).data.who === undefined
        ? t("errors.not_member_you")
        : t("errors.not_member");
    case "bad_name": {
      const { kind, ...issue } = (e as ParleyError<"bad_name">).data;
      const group = kind === "group name";
      if (issue.issue === "length")
        return t(group ? "errors.bad_group_name_length" : "errors.bad_name_length", { max: issue.max });
      if (issue.issue === "unsafe_character")
        return t(group ? "errors.bad_group_name_unsafe" : "errors.bad_name_unsafe");
      return t(group ? "errors.bad_group_name_joiner" : "errors.bad_name_joiner");
    }
    case "blocked":
      return t("errors.blocked", { who: (e as ParleyError<"blocked">).data.contact });
    case "key_not_accepted":
      return t("errors.key_not_accepted", { who: (e as ParleyError<"key_not_accepted">).data.contact });
    case "name_taken":
      return t("errors.name_taken", { name: (e as ParleyError<"name_taken">).data.name });
    case "not_ready":
      return t("errors.not_ready");
    case "too_long": {
      const { max, length, reason } = (e as ParleyError<"too_long">).data;
      if (reason === "size") return t("errors.too_large_text");
      return t("errors.too_long", { length: formatNumber(length), max: formatNumber(max) });
    }
    case "relay_unreachable": {
      const { relay, problem } = (e as ParleyError<"relay_unreachable">).data;
      return t(problem === "not_a_relay" ? "errors.relay_not_parley" : "errors.relay_unreachable", { relay });
    }
    case "empty":
      return (e as ParleyError<"empty">).data.what === "contacts"
        ? t("errors.empty_contacts")
        : t("errors.empty");
    case "file_too_large": {
      const d = (e as ParleyError<"file_too_large">).data;
      return t("errors.file_too_large", { size: megabytes(d.size), max: megabytes(d.max) });
    }
    case "file_tampered":
    case "file_gone":
    case "file_deleted":
    case "not_deletable":
    case "file_changed":
    case "metadata_not_removable":
    case "bad_file":
    case "message_deleted":
    case "not_your_message":
    case "bad_reaction":
      return t(`errors.${e.code}`);
    case "unknown_contact":
    case "unknown_group":
    case "unknown_conversation":
      return t("errors.unknown_conversation");
    case "unknown_message":
    case "ambiguous_message":
      return t("errors.unknown_message");
    case "bad_photo": {
      const reason = (e as ParleyError<"bad_photo">).data.reason;
      return t(
        reason === "too_large"
          ? "errors.photo_too_large"
          : reason === "damaged"
            ? "errors.photo_damaged"
            : "errors.photo_not_image",
      );
    }
    case "already_in_group":
      return t("errors.already_in_group", { group: (e as ParleyError<"already_in_group">).data.group });
    case "no_group_link":
    case "unknown_join_request":
    case "ambiguous_join_request":
    case "bad_link_expiry":
      return t(`errors.${e.code}`);
    default:
      return t("errors.generic");
  }
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

/** A notice for the banner: what failed, then why, in words (`friendlyError`). */
export function failureNotice(what: Failed, error: unknown): string {
  return t("failed.notice", { what: t(`failed.${what}`), why: friendlyError(error) });
}

/**
 * A `not_member` (or `needs_readd`) error: the group was left, we were removed, or this device must
 * be re-added, so there are no members to show. A
 * members refresh racing with such a change expects it; the chat's own status line says what happened.
 */
export function isNoLongerMember(error: unknown): boolean {
  return error instanceof ParleyError && (error.code === "not_member" || error.code === "needs_readd");
}

/**
 * The lines a group chat shows for a `group` event ("Bob was added"), one per sentence, as events
 * (lines.ts words them when shown); none for a queue move.
 */
export function groupEventLines(event: Extract<ClientEvent, { type: "group" }>): LineEvent[] {
  const refs = (people: PersonRef[]) => people.map(personRef);
  switch (event.change) {
    case "joined":
      return [{ code: "addedYou", by: personRef(event.by) }];
    case "members": {
      const lines: LineEvent[] = [];
      if (event.added.length) lines.push({ code: "members", added: refs(event.added), removed: [] });
      if (event.removed.length) lines.push({ code: "members", added: [], removed: refs(event.removed) });
      if (event.left?.length) lines.push({ code: "members", added: [], removed: [], left: refs(event.left) });
      return lines;
    }
    case "roles":
      return [
        ...event.promoted.map((p): LineEvent => ({ code: "roles", promoted: [personRef(p)], demoted: [] })),
        ...event.demoted.map((p): LineEvent => ({ code: "roles", promoted: [], demoted: [personRef(p)] })),
      ];
    case "renamed":
      return [{ code: "renamed", name: event.name }];
    case "removed":
      return [{ code: "removedYou" }];
    case "revoked":
      return []; // our devices' own group, which the app shows as no chat
    case "needs-readd":
      return [{ code: "needsReadd" }];
    case "readd-requested":
      return [
        {
          code: "readdRequested",
          cause: event.cause,
          ...(event.admin ? { admin: personRef(event.admin) } : {}),
        },
      ];
    case "moved":
      return [];
  }
}

/** Why a message was dropped, for a notice. */
export function rejectionNotice(r: Rejection): string {
  switch (r.reason) {
    case "messages_expired":
    case "too_many_held":
      return t(`rejected.${r.reason}`);
    case "inviter_not_admin":
      return t("rejected.inviter_not_admin", { who: personName(r.inviter), group: r.group });
    case "already_in_group":
    case "group_id_reused":
      return t("rejected.replaces", { who: personName(r.inviter) });
    case "not_author":
      return t(r.change === "edit" ? "rejected.not_author_edit" : "rejected.not_author_delete");
    default:
      return t("rejected.other");
  }
}

/**
 * Where an event that is not a message goes: a notice for the person, a line in a chat, or the
 * console only (things that fix themselves).
 */
export function eventNotice(
  e: Extract<ClientEvent, { type: "rejected" | "warning" | "failure" }>,
): { notice: string } | { line: LineEvent; conversationId: string } | { console: string } {
  if (e.type === "rejected") return { notice: rejectionNotice(e) };
  if (e.type === "failure") return { console: `${e.source}: ${e.cause}` };
  switch (e.code) {
    case "messages_missing":
      return {
        line: { code: "missing", count: e.count, who: personRef(e.sender) },
        conversationId: e.conversationId,
      };
    case "followup_failed":
      // A receipt or key packages not sent: nothing was lost and nobody needs to act.
      return { console: `could not send ${e.followup}: ${e.cause}` };
    case "queue_renewed":
      return { console: `a ${e.kind} conversation moved to a new queue` };
    case "send_failed":
      return { notice: t("rejected.send_failed", { cause: e.cause }) };
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
