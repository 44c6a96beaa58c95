/**
 * The lines a chat shows between messages ("Alice added Bob", "You turned on disappearing
 * messages"), kept as what happened — a code with its people, names and numbers — and put into
 * words only when shown, in the reader's language of that moment: switching to 中文 re-words every
 * line, old ones included, and a line never mixes the language it was written in with today's.
 *
 * People are kept as the engine named them then (PersonRef: identity key, name, relation), so a
 * line says who it was about even after a contact is renamed or deleted; "you" is worded by the
 * reader's language, and a member who had not said their name is "Member 3f9a2c" in it.
 *
 * Up to 0.1 the web app kept the finished sentence (`{ text }`). Such a line is read back as
 * `{ code: "text" }` and shown as it was written: its parts are not known any more, and guessing
 * them from the words would be parsing message text.
 */
import type { DeadEpochCause, PersonRef } from "@parley/core";
import { describeMembers, describeRoles, joinNames, needsReadd, personName } from "./groups.js";
import { t } from "./i18n.js";

export type LineEvent =
  /** This device created the group (`pq`: with the post-quantum ciphersuite). */
  | { code: "created"; pq: boolean }
  | { code: "youLeft" }
  | { code: "youAdded"; people: PersonRef[] }
  /** An admin (us) approved someone who asked through the group's invite link. */
  | { code: "youAddedByLink"; name: string }
  | { code: "youRenamed"; name: string }
  | { code: "youSetAdmin"; who: PersonRef; admin: boolean }
  | { code: "youRemoved"; who: PersonRef }
  /** Someone added this device to the group. */
  | { code: "addedYou"; by: PersonRef }
  /** The engine's `members` event: who joined, who is no longer in the group. */
  | { code: "members"; added: PersonRef[]; removed: PersonRef[]; left?: PersonRef[] }
  /** The engine's `roles` event. */
  | { code: "roles"; promoted: PersonRef[]; demoted: PersonRef[] }
  | { code: "renamed"; name: string }
  | { code: "removedYou" }
  | { code: "needsReadd" }
  /** This device fell out of step with the group and asked `admin` to add it back (none: nobody to ask). */
  | { code: "readdRequested"; cause: DeadEpochCause; admin?: PersonRef }
  /** Messages from `who` the relay never delivered. */
  | { code: "missing"; count: number; who: PersonRef }
  /** The disappearing-messages timer, set by `by` (seconds; null: off). */
  | { code: "expiry"; by: PersonRef; seconds: number | null }
  /** A line kept as words (before 0.2): shown as written. */
  | { code: "text"; text: string };

/** A line of a chat that is not a message, as stored (session.ts) and shown. */
export interface SystemLine {
  id: string;
  at: number; // ms since the epoch, on this device
  event: LineEvent;
}

/** A contact named in a line of ours ("You added Bob"). */
export const contactRef = (c: { identityKey: string; name: string }): PersonRef => ({
  identityKey: c.identityKey,
  name: c.name,
  relation: "contact",
});

/** The words of a line, in the current language (several sentences joined by a space). */
export function lineText(e: LineEvent): string {
  switch (e.code) {
    case "created":
      return e.pq ? t("lines.createdPq") : t("lines.created");
    case "youLeft":
      return t("lines.youLeft");
    case "youAdded":
      return t("lines.youAdded", { names: joinNames(e.people.map(personName)) });
    case "youAddedByLink":
      return t("groupLink.addedLine", { name: e.name });
    case "youRenamed":
      return t("lines.youRenamed", { name: e.name });
    case "youSetAdmin":
      return e.admin
        ? t("lines.youMadeAdmin", { who: personName(e.who) })
        : t("lines.noLongerAdmin", { who: personName(e.who) });
    case "youRemoved":
      return t("lines.youRemoved", { who: personName(e.who) });
    case "addedYou":
      return t("lines.addedYou", { who: personName(e.by) });
    case "members":
      return describeMembers(e.added, e.removed, e.left).join(" ");
    case "roles":
      return describeRoles(e.promoted, e.demoted).join(" ");
    case "renamed":
      return t("lines.renamed", { name: e.name });
    case "removedYou":
      return t("lines.removedYou");
    case "needsReadd":
      return needsReadd();
    case "readdRequested": {
      const why = t(`lines.deadEpoch_${e.cause}`);
      return e.admin
        ? t("lines.readdAsked", { why, who: personName(e.admin) })
        : t("lines.readdNoAdmin", { why });
    }
    case "missing":
      return t("lines.missing", { count: e.count, who: personName(e.who) });
    case "expiry":
      return expiryLine(e);
    case "text":
      return e.text;
  }
}

const CODES = new Set<LineEvent["code"]>([
  "created",
  "youLeft",
  "youAdded",
  "youAddedByLink",
  "youRenamed",
  "youSetAdmin",
  "youRemoved",
  "addedYou",
  "members",
  "roles",
  "renamed",
  "removedYou",
  "needsReadd",
  "readdRequested",
  "missing",
  "expiry",
  "text",
]);

/**
 * A stored line's record: `{ event }` since 0.2, `{ text }` before. A record this version does not
 * know (written by a newer one) is not shown rather than shown wrongly. The records are this
 * device's own, in its encrypted store: their fields are not checked one by one beyond that.
 */
export function lineEventOf(record: unknown): LineEvent | undefined {
  if (typeof record !== "object" || record === null) return undefined;
  const r = record as { event?: { code?: unknown; text?: unknown }; text?: unknown };
  if (r.event && typeof r.event === "object" && CODES.has(r.event.code as LineEvent["code"])) {
    if (r.event.code === "text" && typeof r.event.text !== "string") return undefined;
    return r.event as LineEvent;
  }
  if (r.event === undefined && typeof r.text === "string") return { code: "text", text: r.text };
  return undefined;
}

/** "30 seconds", "1 day"… in the current language. */
export function expiryWords(seconds: number): string {
  if (seconds % 86_400 === 0) return t("disappearing.days", { count: seconds / 86_400 });
  if (seconds % 3600 === 0) return t("disappearing.hours", { count: seconds / 3600 });
  return t("disappearing.seconds", { count: seconds });
}

/** The line a chat shows when someone changes the timer. */
function expiryLine(event: { by: PersonRef; seconds: number | null }): string {
  // "You" has sentences of its own: Chinese writes 你 against the verb, a name with a space.
  if (event.by.relation === "me")
    return event.seconds === null
      ? t("disappearing.youTurnedOff")
      : t("disappearing.youSet", { time: expiryWords(event.seconds) });
  const who = personName(event.by);
  return event.seconds === null
    ? t("disappearing.turnedOff", { who })
    : t("disappearing.set", { who, time: expiryWords(event.seconds) });
}
