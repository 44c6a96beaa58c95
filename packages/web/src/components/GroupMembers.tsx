import type { ContactView, GroupMemberView } from "@parley/core";
import type { RefObject } from "react";
import { initials } from "../format";
import { personName } from "../groups";

const SAFETY_LABEL: Record<GroupMemberView["safety"], string> = {
  me: "",
  verified: "Verified contact",
  unverified: "Contact, not verified",
  member: "Not one of your contacts",
};

/** You first, then admins, then everyone else by name. */
function sortMembers(members: GroupMemberView[]): GroupMemberView[] {
  const rank = (m: GroupMemberView) => (m.isMe ? 0 : m.role === "admin" ? 1 : 2);
  return [...members].sort((a, b) => rank(a) - rank(b) || personName(a).localeCompare(personName(b)));
}

/** A group's members: names, admin badge, safety status; for an admin, make admin and remove. */
export function MemberList(props: {
  members: GroupMemberView[];
  labelledBy: string;
  amAdmin: boolean;
  busy: boolean;
  onToggleAdmin: (m: GroupMemberView) => void;
  onRemove: (m: GroupMemberView) => void;
}) {
  const { amAdmin, busy } = props;
  return (
    <ul className="member-list" aria-labelledby={props.labelledBy}>
      {sortMembers(props.members).map((m) => {
        const name = m.isMe ? `${personName(m)} (you)` : personName(m);
        return (
          <li key={m.identityKey} className="member">
            <span className="avatar avatar-small" aria-hidden="true">
              {initials(personName(m))}
            </span>
            <span className="member-text">
              <span className="member-name">
                <span className="member-name-text">{name}</span>
                {m.role === "admin" && <span className="tag tag-admin">admin</span>}
              </span>
              {!m.isMe && (
                <span className={`member-safety safety-${m.safety.replace(/ /g, "-")}`}>
                  {SAFETY_LABEL[m.safety]}
                  {m.devices > 1 ? ` · ${m.devices} devices` : ""}
                </span>
              )}
            </span>
            {amAdmin && !m.isMe && (
              <span className="member-actions">
                <button type="button" disabled={busy} onClick={() => props.onToggleAdmin(m)}>
                  {m.role === "admin" ? "Remove admin" : "Make admin"}
                  <span className="sr-only"> ({personName(m)})</span>
                </button>
                <button
                  type="button"
                  className="danger-outline"
                  disabled={busy}
                  onClick={() => props.onRemove(m)}
                >
                  Remove<span className="sr-only"> ({personName(m)})</span>
                </button>
              </span>
            )}
          </li>
        );
      })}
    </ul>
  );
}

/** Contacts to add to a group, checkboxes; those still connecting cannot be picked yet. */
export function ContactPicker(props: {
  fieldRef: RefObject<HTMLFieldSetElement | null>;
  groupName: string;
  contacts: ContactView[];
  candidates: ContactView[];
  picked: Set<string>;
  onPick: (picked: Set<string>) => void;
}) {
  const { candidates, picked } = props;
  return (
    <fieldset className="pick-list" ref={props.fieldRef}>
      <legend>Choose who to add to “{props.groupName}”</legend>
      {candidates.length === 0 && (
        <p className="muted">
          {props.contacts.length === 0
            ? "You have no contacts yet. Invite someone first: only your contacts can be added."
            : "Everyone in your contacts is already in this group."}
        </p>
      )}
      {candidates.map((k) => (
        <label key={k.id} className={k.canSend ? "pick" : "pick pick-disabled"}>
          <input
            type="checkbox"
            checked={picked.has(k.id)}
            disabled={!k.canSend}
            onChange={(e) => {
              const next = new Set(picked);
              if (e.target.checked) next.add(k.id);
              else next.delete(k.id);
              props.onPick(next);
            }}
          />
          <span className="avatar avatar-small" aria-hidden="true">
            {initials(k.name)}
          </span>
          <span className="pick-name">
            {k.name}
            {!k.canSend && <span className="muted small"> · still connecting</span>}
          </span>
        </label>
      ))}
    </fieldset>
  );
}
