/**
 * ParleyError: what the client engine refuses, as a code from a closed list with typed data. The
 * CLI and the web app turn codes into words (packages/cli/src/words.ts, packages/web/src/words.ts);
 * nobody parses `message`, which is a diagnostic for logs and developers only.
 */
import type { LengthIssue } from "./messaging/text-length.js";
import type { NameIssue, NameKind } from "./messaging/text-safety.js";

export interface ParleyErrorData {
  /** `init` on a device that has a profile already. */
  exists: Record<string, never>;
  no_profile: Record<string, never>;
  /** The short code typed to confirm a device link is not the one both devices show: nothing was sent. */
  link_code_mismatch: Record<string, never>;
  /** No device of ours by that name (`parley devices` lists them). */
  unknown_device: { name: string };
  /** Revoking the device we are on: `parley reset` or `parley wipe` is what does that. */
  revoke_self: Record<string, never>;
  /** The profile was written by a newer Parley (a later local layout than this code reads). */
  profile_too_new: { version: number; supported: number };
  /** A platform could not open the profile (CLI: not a folder, a damaged database). */
  bad_profile: {
    path: string;
    problem: "not_a_folder" | "unusable_folder" | "unreadable_database" | "unreadable_relays_file";
    cause?: string;
  };
  /** A name we chose (ours, a group's) breaks the rules of text-safety.ts. */
  bad_name: { kind: NameKind } & NameIssue;
  /** No contact (`groups`: nor group) by that name or id. */
  unknown_contact: { name: string; groups: boolean };
  unknown_group: { name: string };
  unknown_conversation: { id: string };
  /** Another contact has that name already (`renameContact`). */
  name_taken: { name: string };
  /** Sending to a contact we blocked: unblock them first. */
  blocked: { contact: string };
  /**
   * Sending to a verified contact whose identity key changed (they reset their keys, or someone
   * claims to be them): accept the change, or verify them again, first.
   */
  key_not_accepted: { contact: string };
  /** A name both a contact and a group (or two of either) answer to. */
  ambiguous: { name: string };
  /** `who` is not in `group`; without `who`: we are not (any more). */
  not_member: { group: string; who?: string };
  /** The group is "needs-readd" (store/records.ts): an admin must remove and re-add this device. */
  needs_readd: { group: string; reason: string };
  already_member: { contact: string; group: string };
  not_admin: { group: string };
  /** Leaving as the only admin (`leaving`), or taking the last admin's rights away. */
  last_admin: { leaving: boolean };
  /**
   * A message longer than every receiver accepts (content/text.ts): refused before it is sealed.
   * `max` and `length` in characters a person sees; `reason` "size": within `max` characters but
   * over the ceiling in code units (messaging/text-length.ts: marks piled on a few characters).
   */
  too_long: LengthIssue;
  /** No Parley relay answers at `relay` (`init`, `setRelay`): nothing was created or changed. */
  relay_unreachable: { relay: string; problem: "unreachable" | "not_a_relay" };
  /** Nothing to do: no text, no contacts named, nothing to search for. */
  empty: { what: "text" | "contacts" | "query" };
  /** This device's store has no search index (KeyValueStore.search). */
  search_unavailable: Record<string, never>;
  /** The contact has not given us a KeyPackage yet (they have not synced since we connected). */
  no_key_package: { contact: string };
  /** The contact's intro has not arrived: there is no address to send to yet. */
  not_ready: { contact: string };
  no_websocket: Record<string, never>;
  /** A file larger than the relay takes (`--max-file-mb`): refused before any upload. */
  file_too_large: { size: number; max: number };
  /**
   * An image whose metadata (location, camera, times) Parley cannot remove: a HEIC/HEIF/AVIF
   * (`format`), or an image larger than it strips (`too_large`). Nothing was uploaded; sending it
   * with its metadata takes `keepMetadata` (CLI: --keep-metadata), chosen knowingly.
   */
  metadata_not_removable: { name: string; reason: "format" | "too_large"; type: string };
  /** A file that cannot be sent as it is (an image too damaged to strip its metadata). */
  bad_file: { name: string; reason: string };
  /** No file message with this id in any conversation. */
  unknown_file: { id: string };
  /** A downloaded file's ciphertext does not match the hash its message carries: nothing was saved. */
  file_tampered: { id: string };
  /** The file changed on disk while its upload was interrupted: it has to be sent anew. */
  file_changed: { name: string };
  /** The relay no longer has the file: it expired (or never was there). */
  file_gone: { id: string };
  /** No message with this id (or id prefix) in the conversation. */
  unknown_message: { id: string };
  /** An id prefix several messages of the conversation start with. */
  ambiguous_message: { id: string };
  /** Editing or deleting a message someone else wrote: only its author may. */
  not_your_message: { action: "edit" | "delete" };
  /** Replying to, reacting to, editing or deleting a message deleted for everyone. */
  message_deleted: { id: string };
  /** A reaction must be one emoji (content/reaction.ts). */
  bad_reaction: Record<string, never>;
  /** The file's sender deleted it from the relay before it expired (`deleteFile`). */
  file_deleted: { id: string };
  /**
   * `deleteFile` of a file this device cannot delete: someone else's (`not_mine`), or one of ours
   * whose delete capability this device does not hold (sent before Parley kept it).
   */
  not_deletable: { id: string; reason: "not_mine" | "no_capability" };
  /** A profile photo that cannot be used: not a JPEG/PNG/WebP, damaged, or too large once stripped. */
  bad_photo: { reason: "not_an_image" | "damaged" | "too_large"; size?: number; max?: number };
  // ---- group links (client/group-links/) ----
  /** Revoking, or approving through, a group link that the group does not have (from us). */
  no_group_link: { group: string };
  /** A link expiry that is not a positive duration. */
  bad_link_expiry: Record<string, never>;
  /** No join request from anyone by that name in the group (`joinRequests` lists them). */
  unknown_join_request: { group: string; name: string };
  /** Several join requests answer to that name: approve by the request id instead. */
  ambiguous_join_request: { group: string; name: string };
  /** A link to a group we are in already. */
  already_in_group: { group: string };
  // ---- posts (docs/04-posts.md) ----
  /** No post with this id (or id prefix) in the feed: never seen, deleted, expired or not for us. */
  unknown_post: { id: string };
  /** An id prefix several posts start with. */
  ambiguous_post: { id: string };
  /** Deleting someone else's post: only its author may. */
  not_your_post: { id: string };
  /** A post every receiver would drop: no text and no photo, too long, too many photos, a bad expiry. */
  bad_post: {
    reason: "empty" | "too_long" | "too_many_images" | "bad_expiry" | "not_an_image";
    max?: number;
  };
  /** No audience by that name (`all` is every contact). */
  unknown_audience: { name: string };
  /** An audience of that name exists already. */
  audience_exists: { name: string };
  /** Commenting or liking a post whose audience we are no longer in. */
  not_in_audience: { id: string };
  /** Local data that should be there is not (a bug or a damaged store). */
  corrupt: { what: "group_metadata" | "group_state" | "contact" };
}

export type ParleyErrorCode = keyof ParleyErrorData;

export class ParleyError<C extends ParleyErrorCode = ParleyErrorCode> extends Error {
  override name = "ParleyError";
  constructor(
    readonly code: C,
    readonly data: ParleyErrorData[C],
    options?: ErrorOptions,
  ) {
    super(`${code}${Object.keys(data).length ? ` ${JSON.stringify(data)}` : ""}`, options);
  }

  is<K extends ParleyErrorCode>(code: K): this is ParleyError<K> {
    return (this.code as ParleyErrorCode) === code;
  }
}

/** Narrows an unknown error to a ParleyError, optionally of one code. */
export function isParleyError<K extends ParleyErrorCode>(e: unknown, code?: K): e is ParleyError<K> {
  return e instanceof ParleyError && (code === undefined || e.code === code);
}
