/**
 * Pure helpers for group chats in the UI: plain-language errors, the "who joined / left / became
 * admin" lines a chat shows, and merging those lines with messages. No React, no engine calls.
 */

/** What the app remembers about a group's members, to describe what changed since. */
export interface MemberSnapshot {
  identityKey: string;
  name: string;
  admin: boolean;
}

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

/** The engine calls people who are not our contacts "Name (not a contact)": in a sentence, just the name. */
export function plainName(name: string): string {
  return name.replace(/ \(not a contact\)$/, "");
}

/**
 * Someone who is not our contact and has not told the group their name yet: the engine calls them
 * "Member" and the start of their key, which means nothing to a person.
 */
export function isUnnamed(name: string): boolean {
  return /^Member [A-Za-z0-9_-]{6}$/.test(name);
}

/** Sentences for what changed between two member lists (joins, departures, admin changes). */
export function describeMemberChanges(before: MemberSnapshot[], after: MemberSnapshot[]): string[] {
  const was = new Map(before.map((m) => [m.identityKey, m]));
  const is = new Map(after.map((m) => [m.identityKey, m]));
  const newcomers = after.filter((m) => !was.has(m.identityKey));
  const joined = newcomers.filter((m) => !isUnnamed(m.name)).map((m) => plainName(m.name));
  const strangers = newcomers.length - joined.length;
  if (strangers > 0) joined.push(strangers === 1 ? "a new member" : `${strangers} new members`);
  const gone = before
    .filter((m) => !is.has(m.identityKey))
    .map((m) => (isUnnamed(m.name) ? "a member" : plainName(m.name)));
  const lines: string[] = [];
  if (joined.length) {
    const plural = joined.length > 1 || strangers > 1;
    lines.push(capitalize(`${joinNames(joined)} ${plural ? "were" : "was"} added`));
  }
  if (gone.length) {
    lines.push(capitalize(`${joinNames(gone)} ${gone.length === 1 ? "is" : "are"} no longer in the group`));
  }
  for (const m of after) {
    const old = was.get(m.identityKey);
    if (!old || old.admin === m.admin) continue;
    const who = m.name === "You" ? "You" : plainName(m.name);
    const be = who === "You" ? "are" : "is";
    lines.push(m.admin ? `${who} ${be} now an admin` : `${who} ${be} no longer an admin`);
  }
  return lines;
}

/** The snapshot with today's names (someone's name arrives after they join), same members and roles. */
export function renameSnapshot(snapshot: MemberSnapshot[], current: MemberSnapshot[]): MemberSnapshot[] {
  const names = new Map(current.map((m) => [m.identityKey, m.name]));
  return snapshot.map((m) => ({ ...m, name: names.get(m.identityKey) ?? m.name }));
}

/** Anything with a `code` and a `message`: the engine's ParleyError, the relay client's RelayError. */
interface CodedError {
  name?: string;
  code?: string;
  message?: string;
}

/**
 * Turns an engine or network error into a sentence a person can act on. The engine's messages are
 * written for the command line ("they need to open Parley (sync) once"); this says the same for
 * someone who has never seen a terminal.
 */
export function friendlyError(error: unknown): string {
  const e = (typeof error === "object" && error !== null ? error : { message: String(error) }) as CodedError;
  const message = e.message ?? "";
  switch (e.code) {
    case "no_key_package": {
      const who = /no key package from (.+?) yet/.exec(message)?.[1] ?? "This contact";
      return `${who} can’t be added yet: their Parley has not been online since you connected. Ask ${who} to open Parley once, then try again.`;
    }
    case "not_admin":
      return "Only the group’s admins can do that.";
    case "last_admin":
      return /only admin/.test(message)
        ? "You are the only admin. Make someone else an admin before you leave."
        : "A group needs at least one admin.";
    case "already_member": {
      const who = /^(.+?) is already in/.exec(message)?.[1];
      return who ? `${who} is already in this group.` : "That person is already in this group.";
    }
    case "not_member":
      return /you are no longer/i.test(message)
        ? "You are no longer a member of this group."
        : "That person is not in this group any more.";
    case "bad_name":
      if (/group name has/.test(message)) return "A group name has 1 to 100 characters.";
      return /one line/.test(message)
        ? `A ${/group/.test(message) ? "group name" : "name"} must be one line, without control or invisible formatting characters.`
        : capitalize(message);
    case "not_ready":
      return "This contact has not finished connecting yet. Try again in a moment.";
    case "empty":
      return "Choose at least one person.";
    case "network":
      return "Parley could not reach the relay. Check your connection and try again.";
  }
  if (e.name === "RelayError" || /failed to fetch|networkerror/i.test(message)) {
    return "Parley could not reach the relay. Check your connection and try again.";
  }
  return capitalize(message) || "Something went wrong. Try again.";
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
