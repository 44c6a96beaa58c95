/**
 * The CLI's words for what the engine reports as codes and kinds: errors, rejections, warnings,
 * group changes, and the names of people. The engine says nothing in words; this file does, for
 * the terminal (the web app has its own, packages/web/src/words.ts). Output goes through
 * terminal-text.ts after this, since names in it are chosen by others.
 */
import {
  type ClientEvent,
  describeNameIssue,
  type GroupMemberView,
  InviteError,
  type MessageView,
  ParleyError,
  type PersonRef,
  type Rejection,
} from "@parley/core";
import { postErrorText, postEventText, postRejectionText } from "./post-words.js";

/** A person in a sentence: our name for a contact; a member's own name, marked; else their key's start. */
export function personLabel(p: PersonRef, me = "me"): string {
  if (p.relation === "me") return me;
  if (p.relation === "contact") return p.name ?? "";
  return p.name ? `${p.name} (not a contact)` : `Member ${p.identityKey.slice(0, 6)}`;
}

/** People in an event line: "Bob, Carol and you" (labels as personLabel gives them, we are "you"). */
function names(people: PersonRef[]): string {
  const labels = people.map((p) => personLabel(p, "you"));
  return labels.length <= 1 ? (labels[0] ?? "") : `${labels.slice(0, -1).join(", ")} and ${labels.at(-1)}`;
}

/** Whether a list of people takes a plural verb ("you" does, even alone). */
const plural = (people: PersonRef[]) => people.length > 1 || people[0]?.relation === "me";

/** A size for people: "812 bytes", "3.4 MB" (decimal units, as file managers show them). */
export function megabytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} bytes`;
  if (bytes < 1_000_000) return `${(bytes / 1000).toFixed(1)} kB`;
  if (bytes < 1_000_000_000) return `${(bytes / 1_000_000).toFixed(1)} MB`;
  return `${(bytes / 1_000_000_000).toFixed(2)} GB`;
}

export function errorText(e: unknown): string {
  if (e instanceof ParleyError) return parleyErrorText(e);
  return e instanceof Error ? e.message : String(e);
}

function parleyErrorText(e: ParleyError): string {
  const d = e.data as Record<string, unknown>;
  const s = (k: string) => String(d[k] ?? "");
  switch (e.code) {
    case "exists":
      return "this profile is already initialised";
    case "no_profile":
      return "no profile here yet: run `parley init --name <name> --server <url>`";
    case "profile_too_new":
      return `this profile was written by a newer Parley (layout ${s("version")}; this one reads up to ${s("supported")}): update Parley`;
    case "bad_profile":
      if (d.problem === "not_a_folder")
        return `the profile path ${s("path")} is not a folder: pass --home <folder>`;
      if (d.problem === "unusable_folder")
        return `cannot use ${s("path")} as the profile folder: ${s("cause")}`;
      if (d.problem === "unreadable_relays_file")
        return `cannot read the relay nodes file ${s("path")}: ${s("cause")}`;
      return `cannot open the profile database ${s("path")} (${s("cause")}): it is damaged or not a Parley profile`;
    case "bad_name": {
      const { kind, ...issue } = (e as ParleyError<"bad_name">).data;
      return describeNameIssue(kind, issue as never);
    }
    case "unknown_contact":
      return d.groups ? `no contact or group named "${s("name")}"` : `no contact named "${s("name")}"`;
    case "unknown_group":
      return `no group named "${s("name")}"`;
    case "unknown_conversation":
      return "no such conversation";
    case "name_taken":
      return `another contact is called "${s("name")}" already: choose another name`;
    case "blocked":
      return `you blocked "${s("contact")}": unblock them first (parley contact block "${s("contact")}" --off)`;
    case "key_not_accepted":
      return `${s("contact")}'s safety number changed: nothing is sent until you accept it (parley contact accept-key "${s("contact")}") or compare safety numbers again (parley safety "${s("contact")}" --verify)`;
    case "ambiguous":
      return `"${s("name")}" names more than one conversation: use its id`;
    case "needs_readd":
      return `"${s("group")}" needs you to be re-added: this device could not carry its group state over to this version of Parley (${s("reason")}); ask an admin to remove you and add you again`;
    case "not_member":
      return d.who === undefined
        ? `you are no longer a member of "${s("group")}"`
        : `${s("who")} is not in "${s("group")}"`;
    case "already_member":
      return `${s("contact")} is already in "${s("group")}"`;
    case "not_admin":
      return `only admins of "${s("group")}" can do that`;
    case "last_admin":
      return d.leaving
        ? "you are the only admin: make someone else admin first"
        : "a group needs at least one admin";
    case "relay_unreachable":
      return d.problem === "unreachable"
        ? `no relay answers at ${s("relay")}: check the address (and that the relay runs); nothing was changed`
        : `${s("relay")} answers, but it is not a Parley relay: check the address and port; nothing was changed`;
    case "too_long":
      return `the message is too long: ${s("length")} characters, at most ${s("max")} (send a long text as a file)`;
    case "empty":
      return d.what === "text"
        ? "nothing to send"
        : d.what === "query"
          ? "nothing to search for"
          : "name at least one contact to add";
    case "search_unavailable":
      return "this device's store cannot search";
    case "no_key_package":
      return `no key package from ${s("contact")} yet: they need to open Parley (sync) once, then try again`;
    case "not_ready":
      return "this contact has not finished connecting yet: sync first";
    case "no_websocket":
      return "this platform has no WebSocket";
    case "file_too_large":
      return `the file is ${megabytes(Number(d.size))}; this relay takes files up to ${megabytes(Number(d.max))}: nothing was uploaded`;
    case "unknown_file":
      return `no file with id ${s("id")}: list them with \`parley files <contact or group>\``;
    case "file_tampered":
      return "the downloaded file does not match its message: it was altered on the way or on the relay. Nothing was saved.";
    case "file_changed":
      return `${s("name")} changed since its upload was interrupted: send it again as a new file`;
    case "file_gone":
      return "the relay no longer has this file: it expired";
    case "file_deleted":
      return "the sender deleted this file from the relay: it cannot be downloaded any more";
    case "not_deletable":
      return d.reason === "not_mine"
        ? `file ${s("id")} was sent by someone else: only its sender can delete it from the relay`
        : `this device does not hold the delete capability of file ${s("id")} (it was sent before Parley kept it): it expires on its own`;
    case "metadata_not_removable":
      return d.reason === "format"
        ? `${s("name")} is a ${String(d.type).toUpperCase()} image: Parley cannot remove its metadata (location, camera, times) yet. Nothing was sent. Convert it to JPEG first, or send it with its metadata: --keep-metadata`
        : `${s("name")} is too large for Parley to remove its metadata (location, camera, times). Nothing was sent. Make it smaller, or send it with its metadata: --keep-metadata`;
    case "bad_file":
      return `${s("name")} cannot be sent: ${s("reason")}`;
    case "unknown_message":
      return `no message ${s("id")} in this conversation: the ids are in \`parley messages <conversation>\``;
    case "ambiguous_message":
      return `more than one message id starts with ${s("id")}: give more of it`;
    case "not_your_message":
      return `only its author can ${d.action === "edit" ? "edit" : "delete"} a message`;
    case "message_deleted":
      return "that message was deleted";
    case "bad_reaction":
      return "a reaction is one emoji, such as 👍";
    case "corrupt":
      return d.what === "group_metadata"
        ? "this group has no readable metadata"
        : d.what === "contact"
          ? "conversation without a contact"
          : "the group state of this conversation is missing";
    default:
      return postErrorText(e);
  }
}

/** The error's code for --json: a ParleyError's code, else the error's class name. */
export function errorCode(e: unknown): string {
  if (e instanceof ParleyError) return e.code;
  if (e instanceof InviteError) return e.name;
  const err = e as { code?: unknown; name?: string };
  return typeof err.code === "string" ? err.code : (err.name ?? "Error");
}

/** "30 seconds", "1 hour", "1 day", "7 days". */
export function expireWords(seconds: number): string {
  const unit = (n: number, one: string) => `${n} ${one}${n === 1 ? "" : "s"}`;
  if (seconds % 86_400 === 0) return unit(seconds / 86_400, "day");
  if (seconds % 3600 === 0) return unit(seconds / 3600, "hour");
  return unit(seconds, "second");
}

export function rejectionText(r: Rejection): string {
  switch (r.reason) {
    case "malformed":
    case "mls":
      return r.detail;
    case "wrong_sender":
      return "message from an identity that is not this contact: dropped";
    case "revoked_device":
      return `a message signed with keys ${personLabel(r.by)} replaced when resetting them: dropped (a copy of an old device?)`;
    case "misplaced":
      return `"${r.body}" does not belong in ${r.conversation === "direct" ? "a 1:1 conversation" : "a group"}`;
    case "foreign_key_package":
      return "a key package that is not this contact's was dropped";
    case "unknown_key_package":
      return "a group invite for a key package this device does not hold was dropped";
    case "group_without_metadata":
      return "a group without readable metadata was not joined";
    case "inviter_not_admin":
      return `${personLabel(r.inviter)} is not an admin of "${r.group}": invite dropped`;
    case "already_in_group":
      return `${personLabel(r.inviter)} sent an invite to a group this device is already in ("${r.group}"): ignored`;
    case "group_id_reused":
      return `${personLabel(r.inviter)} sent an invite that reuses the id of a conversation this device has: ignored`;
    case "invite_answer_reused_id":
      return "an invite answer reused the id of an existing conversation: dropped";
    case "invite_already_answered":
      return "a second answer to an invite that was already used was dropped";
    case "invite_answer_not_two":
      return "an invite answer must be a conversation of two";
    case "queue_move_not_admin":
      return "only an admin may move the group to another queue";
    case "expire_not_admin":
      return "only an admin may set the group's disappearing-messages timer";
    case "not_author":
      return `someone tried to ${r.change} a message they did not write: ignored`;
    case "unknown_queue":
      return "message on a queue this device does not know";
    case "too_many_held":
      return "too many messages from later epochs are waiting: dropped";
    case "messages_expired":
      return "some group messages expired on the relay before this device read them";
    default:
      return postRejectionText(r);
  }
}

const FOLLOWUP_WORDS: Record<string, string> = {
  receipt: "a delivery receipt",
  "key-packages": "key packages",
  "group-profile": "our name in the group",
  "remove-leaver": "the removal of a member who left",
  "group-order": "a group change of ours",
  "reply-to": "the new address of our queue",
  reset: "carrying this conversation over to the new keys (run parley reset again)",
};

/** One line for an event (before terminal escaping), or undefined for events the CLI does not print. */
export function eventText(e: ClientEvent): string | undefined {
  switch (e.type) {
    case "contact":
      if (e.change === "added") return `* ${e.contact.name} is now your contact`;
      if (e.change === "key-changed")
        return `! ${e.contact.name}: IDENTITY CHANGED — compare safety numbers again`;
      if (e.change === "key-reset")
        return `! ${e.contact.name}'s safety number changed — they reset their keys; compare safety numbers again${e.contact.mustAccept ? ` (nothing is sent to them until you accept it: parley contact accept-key "${e.contact.name}")` : ""}`;
      return `* your contact is now called ${e.contact.name}`;
    case "group":
      switch (e.change) {
        case "joined":
          return `* you were added to "${e.name}" by ${personLabel(e.by)}`;
        case "members": {
          const parts = [
            e.added.length ? `${names(e.added)} added` : "",
            e.removed.length ? `${names(e.removed)} removed` : "",
          ].filter(Boolean);
          return `* "${e.name}": ${parts.join("; ") || "members changed"}`;
        }
        case "renamed":
          return `* the group is now called "${e.name}"`;
        case "roles": {
          const parts = [
            e.promoted.length ? `${names(e.promoted)} ${plural(e.promoted) ? "are" : "is"} now admin` : "",
            e.demoted.length ? `${names(e.demoted)} ${plural(e.demoted) ? "are" : "is"} no longer admin` : "",
          ].filter(Boolean);
          return `* "${e.name}": ${parts.join("; ") || "admins changed"}`;
        }
        case "removed":
          return `! you were removed from "${e.name}"`;
        case "needs-readd":
          return `! "${e.name}" needs you to be re-added: this device could not carry its group state over to this version of Parley (${e.reason}); ask an admin to remove you and add you again`;
        case "moved":
          return undefined;
      }
      return undefined;
    case "rejected":
      return `! rejected a message: ${rejectionText(e)}`;
    case "warning":
      switch (e.code) {
        case "followup_failed":
          return `! ${FOLLOWUP_WORDS[e.followup] ?? e.followup} could not be sent: ${e.cause}`;
        case "queue_renewed":
          return e.kind === "direct"
            ? "! a conversation's queue had expired on the relay: a new one was made and sent to the contact"
            : "! a group's queue had expired on the relay: the group carries on in one every member finds by itself";
        case "messages_missing":
          return `! ${e.count} message${e.count === 1 ? "" : "s"} from ${personLabel(e.sender)} did not arrive (the relay may have dropped ${e.count === 1 ? "it" : "them"})`;
        case "send_failed":
          return `! a message of yours could not be sent, the relay refused it: ${e.cause}`;
      }
      return undefined;
    case "updated":
      if (e.change !== "reaction") return undefined; // output.ts prints the message itself
      return reactionText(e.by, e.message);
    case "expire":
      return e.seconds === null
        ? `* ${personLabel(e.by)} turned disappearing messages off`
        : `* ${personLabel(e.by)} set messages to disappear after ${expireWords(e.seconds)}`;
    case "read":
      return `* ${personLabel(e.by)} read ${e.ids.map((id) => `#${shortId(id)}`).join(" ")}`;
    case "typing":
      return `* ${personLabel(e.by)} ${e.typing ? "is typing…" : "stopped typing"}`;
    case "sent":
      return `* ${e.ids.length === 1 ? "a message that was waiting has" : `${e.ids.length} messages that were waiting have`} been sent`;
    case "failure":
      return `! ${e.source === "relay" ? "the relay" : "this device"} could not handle a delivery: ${e.cause}`;
    case "post":
      return postEventText(e);
    default:
      return undefined;
  }
}

/** The short id the CLI shows for a message; commands take it (or any longer prefix, or the whole id). */
export const shortId = (id: string): string => id.slice(0, 6);

/** "* Bob reacted 👍 to #Ab3dE5" (the person's reaction as the message now holds it). */
function reactionText(by: PersonRef, m: MessageView): string {
  const given = m.reactions?.find((r) => r.by.some((p) => p.identityKey === by.identityKey));
  const who = personLabel(by, "you");
  return given
    ? `* ${who} reacted ${given.emoji} to #${shortId(m.id)}`
    : `* ${who} took back a reaction to #${shortId(m.id)}`;
}

/** A message for --json: `from` as a label ("me", a name), `sender` as the engine gave it. */
export const messageJson = (m: MessageView) => ({ ...m, from: personLabel(m.from), sender: m.from });

/** A group member for --json: `name` as a label, `safety` in words ("not a contact"). */
export const memberJson = (m: GroupMemberView) => ({
  ...m,
  name: m.isMe ? (m.name ?? "") : personLabel(m),
  safety: m.safety === "member" ? "not a contact" : m.safety,
});
