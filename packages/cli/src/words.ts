/**
 * The CLI's words for what the engine reports as codes and kinds: errors, rejections, warnings,
 * group changes, and the names of people. The engine says nothing in words; this file does, for
 * the terminal (the web app has its own, packages/web/src/groups.ts), in the catalogue's words
 * (@parley/i18n, `cli.*`). Output goes through
 * terminal-text.ts after this, since names in it are chosen by others.
 */
import {
  type ClientEvent,
  EncryptedStoreError,
  type GroupMemberView,
  InviteError,
  LinkError,
  type MessageView,
  ParleyError,
  type PersonRef,
  type Rejection,
  RelayError,
} from "@parley/core";
import { joinList, tr } from "./i18n.js";
import { postErrorText, postEventText, postRejectionText } from "./post-words.js";

/** A person in a sentence: our name for a contact; a member's own name, marked; else their key's start. */
export function personLabel(p: PersonRef, me: string = tr("cli.me")): string {
  if (p.relation === "me") return me;
  if (p.relation === "contact") return p.name ?? "";
  return p.name
    ? tr("cli.notContact", { name: p.name })
    : tr("cli.member", { key: p.identityKey.slice(0, 6) });
}

/** People in an event line: "Bob, Carol and you" (labels as personLabel gives them, we are "you"). */
function names(people: PersonRef[]): string {
  return joinList(people.map((p) => personLabel(p, tr("cli.you"))));
}

/** How many a list of people counts as, for the verb ("you" takes a plural one, even alone). */
const count = (people: PersonRef[]) => (people.length > 1 || people[0]?.relation === "me" ? 2 : 1);

/** A size for people: "812 bytes", "3.4 MB" (decimal units, as file managers show them). */
export function megabytes(bytes: number): string {
  if (bytes < 1000) return tr("cli.files.bytes", { count: bytes });
  if (bytes < 1_000_000) return `${(bytes / 1000).toFixed(1)} kB`;
  if (bytes < 1_000_000_000) return `${(bytes / 1_000_000).toFixed(1)} MB`;
  return `${(bytes / 1_000_000_000).toFixed(2)} GB`;
}

/**
 * A refusal of the CLI's own about the profile's passphrase: the store's code (for --json) and
 * the catalogue's words already, where the engine's EncryptedStoreError has a diagnostic in English.
 */
export class WordedStoreError extends EncryptedStoreError {}
/** An invite error the CLI has already worded (a group link's: cli.groupLink.error.*), shown as it is. */
export class WordedInviteError extends InviteError {}

export function errorText(e: unknown): string {
  if (e instanceof ParleyError) return parleyErrorText(e);
  if (e instanceof LinkError) return tr(`cli.errors.link_${e.reason}`);
  if (e instanceof InviteError && !(e instanceof WordedInviteError))
    return tr(e.reason === "own_invite" ? "cli.errors.invite_own" : `cli.errors.invite_${e.reason}`);
  if (e instanceof RelayError) return tr("cli.errors.relay_error", { code: e.code });
  if (e instanceof EncryptedStoreError && !(e instanceof WordedStoreError)) {
    if (e.code === "wrong_passphrase" || e.code === "locked") return tr(`cli.errors.store_${e.code}`);
    if (e.code === "corrupt" || e.code === "tampered") return tr("cli.errors.store_damaged");
  }
  const fs = fileSystemError(e);
  if (fs) return fs;
  // The CLI's own refusals (usage mistakes) are already in the catalogue's words.
  return e instanceof Error ? e.message : String(e);
}

/** A file the person named that cannot be used (send-file, get-file, post --image), in words. */
function fileSystemError(e: unknown): string | undefined {
  const err = e as { code?: unknown; path?: unknown };
  const path = typeof err.path === "string" ? err.path : "";
  switch (err.code) {
    case "ENOENT":
      return tr("cli.errors.file_not_found", { path });
    case "EACCES":
    case "EPERM":
      return tr("cli.errors.file_not_allowed", { path });
    case "EISDIR":
      return tr("cli.errors.file_is_folder", { path });
    default:
      return undefined;
  }
}

function parleyErrorText(e: ParleyError): string {
  const d = e.data as Record<string, unknown>;
  const s = (k: string) => String(d[k] ?? "");
  switch (e.code) {
    case "link_code_mismatch":
    case "revoke_self":
      return tr(`cli.errors.${e.code}`);
    case "unknown_device":
      return tr("cli.errors.unknown_device", { name: s("name") });
    case "exists":
    case "no_profile":
    case "unknown_conversation":
    case "not_ready":
    case "no_websocket":
    case "file_tampered":
    case "file_gone":
    case "file_deleted":
    case "message_deleted":
    case "bad_reaction":
      return tr(`cli.errors.${e.code}`);
    case "profile_too_new":
      return tr("cli.errors.profile_too_new", { version: s("version"), supported: s("supported") });
    case "bad_profile":
      if (d.problem === "not_a_folder") return tr("cli.errors.not_a_folder", { path: s("path") });
      if (d.problem === "unusable_folder" || d.problem === "unreadable_relays_file")
        return tr(`cli.errors.${d.problem}`, { path: s("path"), cause: s("cause") });
      return tr("cli.errors.unreadable_database", { path: s("path"), cause: s("cause") });
    case "bad_name": {
      const { kind, ...issue } = (e as ParleyError<"bad_name">).data;
      const group = kind === "group name";
      if (issue.issue === "length")
        return tr(group ? "cli.errors.group_name_length" : "cli.errors.name_length", { max: issue.max });
      if (issue.issue === "unsafe_character")
        return tr(group ? "cli.errors.group_name_unsafe" : "cli.errors.name_unsafe", {
          codePoint: issue.codePoint,
        });
      return tr(group ? "cli.errors.group_name_joiner" : "cli.errors.name_joiner");
    }
    case "unknown_contact":
      return tr(d.groups ? "cli.errors.unknown_contact_or_group" : "cli.errors.unknown_contact", {
        name: s("name"),
      });
    case "unknown_group":
    case "name_taken":
    case "ambiguous":
      return tr(`cli.errors.${e.code}`, { name: s("name") });
    case "blocked":
      return tr("cli.errors.blocked", { contact: s("contact") });
    case "key_not_accepted":
      return tr("cli.errors.key_not_accepted", { contact: s("contact") });
    case "needs_readd":
      return tr("cli.errors.needs_readd", { group: s("group"), reason: s("reason") });
    case "not_member":
      return d.who === undefined
        ? tr("cli.errors.not_member_you", { group: s("group") })
        : tr("cli.errors.not_member", { who: s("who"), group: s("group") });
    case "already_member":
      return tr("cli.errors.already_member", { contact: s("contact"), group: s("group") });
    case "not_admin":
      return tr("cli.errors.not_admin", { group: s("group") });
    case "last_admin":
      return tr(d.leaving ? "cli.errors.last_admin_leaving" : "cli.errors.last_admin");
    case "bad_photo":
      if (d.reason === "too_large")
        return tr("cli.errors.photo_too_large", {
          size: megabytes(Number(d.size)),
          max: megabytes(Number(d.max)),
        });
      return tr(d.reason === "damaged" ? "cli.errors.photo_damaged" : "cli.errors.photo_not_image");
    case "no_group_link":
    case "already_in_group":
      return tr(`cli.errors.${e.code}`, { group: s("group") });
    case "bad_link_expiry":
      return tr("cli.errors.bad_link_expiry");
    case "unknown_join_request":
    case "ambiguous_join_request":
      return tr(`cli.errors.${e.code}`, { group: s("group"), name: s("name") });
    case "relay_unreachable":
      return tr(
        d.problem === "unreachable" ? "cli.errors.relay_unreachable" : "cli.errors.relay_not_parley",
        {
          relay: s("relay"),
        },
      );
    case "too_long":
      if (d.reason === "size") return tr("cli.errors.too_large_text");
      return tr("cli.errors.too_long", { length: s("length"), max: s("max") });
    case "empty":
      return tr(
        d.what === "text"
          ? "cli.errors.empty_text"
          : d.what === "query"
            ? "cli.errors.empty_query"
            : "cli.errors.empty_contacts",
      );
    case "search_unavailable":
      return tr("cli.errors.search_unavailable");
    case "no_key_package":
      return tr("cli.errors.no_key_package", { contact: s("contact") });
    case "file_too_large":
      return tr("cli.errors.file_too_large", {
        size: megabytes(Number(d.size)),
        max: megabytes(Number(d.max)),
      });
    case "unknown_file":
    case "unknown_message":
    case "ambiguous_message":
      return tr(`cli.errors.${e.code}`, { id: s("id") });
    case "file_changed":
      return tr("cli.errors.file_changed", { name: s("name") });
    case "not_deletable":
      return tr(d.reason === "not_mine" ? "cli.errors.not_mine" : "cli.errors.no_capability", {
        id: s("id"),
      });
    case "metadata_not_removable":
      return d.reason === "format"
        ? tr("cli.errors.metadata_format", { name: s("name"), type: String(d.type).toUpperCase() })
        : tr("cli.errors.metadata_size", { name: s("name") });
    case "bad_file":
      return tr("cli.errors.bad_file", { name: s("name"), reason: s("reason") });
    case "not_your_message":
      return tr(
        d.action === "edit" ? "cli.errors.not_your_message_edit" : "cli.errors.not_your_message_delete",
      );
    case "corrupt":
      return tr(
        d.what === "group_metadata"
          ? "cli.errors.corrupt_metadata"
          : d.what === "contact"
            ? "cli.errors.corrupt_contact"
            : "cli.errors.corrupt_group",
      );
    default:
      return postErrorText(e);
  }
}

/** The error's code for --json: a ParleyError's code, else the error's class name. */
export function errorCode(e: unknown): string {
  if (e instanceof ParleyError) return e.code;
  if (e instanceof InviteError) return e.name;
  if (e instanceof LinkError) return `link_${e.reason}`;
  const err = e as { code?: unknown; name?: string };
  return typeof err.code === "string" ? err.code : (err.name ?? "Error");
}

/** "30 seconds", "1 hour", "1 day", "7 days". */
export function expireWords(seconds: number): string {
  if (seconds % 86_400 === 0) return tr("cli.duration.days", { count: seconds / 86_400 });
  if (seconds % 3600 === 0) return tr("cli.duration.hours", { count: seconds / 3600 });
  return tr("cli.duration.seconds", { count: seconds });
}

export function rejectionText(r: Rejection): string {
  switch (r.reason) {
    case "malformed":
    case "mls":
      return tr("cli.rejected.unverifiable", { detail: r.detail });
    case "revoked_device":
      return tr("cli.rejected.revoked_device", { who: personLabel(r.by) });
    case "misplaced":
      return tr(
        r.conversation === "direct" ? "cli.rejected.misplaced_direct" : "cli.rejected.misplaced_group",
        {
          body: r.body,
        },
      );
    case "inviter_not_admin":
    case "already_in_group":
      return tr(`cli.rejected.${r.reason}`, { who: personLabel(r.inviter), group: r.group });
    case "group_id_reused":
      return tr("cli.rejected.group_id_reused", { who: personLabel(r.inviter) });
    case "join_answer_wrong_group":
      return tr("cli.rejected.join_answer_wrong_group", { group: r.group });
    case "not_author":
      return tr(r.change === "edit" ? "cli.rejected.not_author_edit" : "cli.rejected.not_author_delete");
    case "not_post_owner":
    case "unknown_post":
    case "empty_post":
    case "not_a_feed":
      return postRejectionText(r);
    default:
      return tr(`cli.rejected.${r.reason}`);
  }
}

const FOLLOWUPS = new Set([
  "receipt",
  "key-packages",
  "group-profile",
  "remove-leaver",
  "group-order",
  "reply-to",
  "reset",
  "group-link-add",
  "group-readd",
  "revoke",
] as const);
type Followup = typeof FOLLOWUPS extends Set<infer F> ? F : never;
const followupWords = (f: string) => (FOLLOWUPS.has(f as Followup) ? tr(`cli.followup.${f as Followup}`) : f);

/** One line for an event (before terminal escaping), or undefined for events the CLI does not print. */
export function eventText(e: ClientEvent): string | undefined {
  switch (e.type) {
    case "contact":
      if (e.change === "added") return tr("cli.event.contactAdded", { name: e.contact.name });
      if (e.change === "key-changed") return tr("cli.event.keyChanged", { name: e.contact.name });
      if (e.change === "key-reset")
        return tr(e.contact.mustAccept ? "cli.event.keyResetMustAccept" : "cli.event.keyReset", {
          name: e.contact.name,
        });
      if (e.change === "photo")
        return tr(e.contact.photo ? "cli.event.contactPhoto" : "cli.event.contactPhotoRemoved", {
          name: e.contact.name,
        });
      return tr("cli.event.contactRenamed", { name: e.contact.name });
    case "group":
      switch (e.change) {
        case "joined":
          return tr("cli.event.joined", { group: e.name, who: personLabel(e.by) });
        case "members": {
          const parts = [
            e.added.length ? tr("cli.event.added", { names: names(e.added) }) : "",
            e.removed.length ? tr("cli.event.removed", { names: names(e.removed) }) : "",
            e.left?.length ? tr("cli.event.left", { names: names(e.left) }) : "",
          ].filter(Boolean);
          // Nothing to say: our own removal of someone who left (already said when they left).
          if (parts.length === 0) return undefined;
          return tr("cli.event.groupLine", { group: e.name, what: parts.join("; ") });
        }
        case "renamed":
          return tr("cli.event.groupRenamed", { group: e.name });
        case "roles": {
          const parts = [
            e.promoted.length
              ? tr("cli.event.nowAdmin", { names: names(e.promoted), count: count(e.promoted) })
              : "",
            e.demoted.length
              ? tr("cli.event.noLongerAdmin", { names: names(e.demoted), count: count(e.demoted) })
              : "",
          ].filter(Boolean);
          return tr("cli.event.groupLine", {
            group: e.name,
            what: parts.join("; ") || tr("cli.event.adminsChanged"),
          });
        }
        case "removed":
          return tr("cli.event.removedYou", { group: e.name });
        case "revoked":
          return tr("cli.event.deviceRevoked");
        case "needs-readd":
          return tr("cli.event.needsReadd", { group: e.name, reason: e.reason });
        case "readd-requested": {
          const why = tr(`cli.event.deadEpoch_${e.cause}`);
          return e.admin
            ? tr("cli.event.readdAsked", { group: e.name, why, who: personLabel(e.admin, tr("cli.you")) })
            : tr("cli.event.readdNoAdmin", { group: e.name, why });
        }
        case "moved":
          return undefined;
      }
      return undefined;
    case "devices": {
      const who = personLabel(e.by, tr("cli.you"));
      return [
        e.added ? tr("cli.event.devicesAdded", { who, count: e.added }) : "",
        e.removed ? tr("cli.event.devicesRemoved", { who, count: e.removed }) : "",
      ]
        .filter(Boolean)
        .join("\n");
    }
    case "rejected":
      return tr("cli.event.rejected", { why: rejectionText(e) });
    case "warning":
      switch (e.code) {
        case "followup_failed":
          return tr("cli.event.followupFailed", { what: followupWords(e.followup), cause: e.cause });
        case "queue_renewed":
          return tr(e.kind === "direct" ? "cli.event.queueRenewedDirect" : "cli.event.queueRenewedGroup");
        case "messages_missing":
          return tr("cli.event.missing", { count: e.count, who: personLabel(e.sender) });
        case "send_failed":
          return tr("cli.event.sendFailed", { cause: e.cause });
      }
      return undefined;
    case "updated":
      if (e.change !== "reaction") return undefined; // output.ts prints the message itself
      return reactionText(e.by, e.message);
    case "expire":
      return e.seconds === null
        ? tr("cli.event.expireOff", { who: personLabel(e.by) })
        : tr("cli.event.expireOn", { who: personLabel(e.by), time: expireWords(e.seconds) });
    case "read":
      return tr("cli.event.read", {
        who: personLabel(e.by),
        ids: e.ids.map((id) => `#${shortId(id)}`).join(" "),
      });
    case "typing":
      return tr(e.typing ? "cli.event.typing" : "cli.event.stoppedTyping", { who: personLabel(e.by) });
    case "sent":
      return tr("cli.event.sent", { count: e.ids.length });
    case "failure":
      return tr(e.source === "relay" ? "cli.event.failureRelay" : "cli.event.failureDevice", {
        cause: e.cause,
      });
    case "post":
      return postEventText(e);
    case "join-request":
      return tr("cli.event.joinRequest", { name: e.request.name, group: e.group });
    default:
      return undefined;
  }
}

/** The short id the CLI shows for a message; commands take it (or any longer prefix, or the whole id). */
export const shortId = (id: string): string => id.slice(0, 6);

/** "* Bob reacted 👍 to #Ab3dE5" (the person's reaction as the message now holds it). */
function reactionText(by: PersonRef, m: MessageView): string {
  const given = m.reactions?.find((r) => r.by.some((p) => p.identityKey === by.identityKey));
  const who = personLabel(by, tr("cli.you"));
  return given
    ? tr("cli.event.reacted", { who, emoji: given.emoji, id: shortId(m.id) })
    : tr("cli.event.unreacted", { who, id: shortId(m.id) });
}

/** A message for --json: `from` as a label ("me", a name), `sender` as the engine gave it. */
export const messageJson = (m: MessageView) => ({ ...m, from: personLabel(m.from), sender: m.from });

/** A group member for --json: `name` as a label, `safety` in words ("not a contact"). */
export const memberJson = (m: GroupMemberView) => ({
  ...m,
  name: m.isMe ? (m.name ?? "") : personLabel(m),
  safety: m.safety === "member" ? "not a contact" : m.safety,
});
