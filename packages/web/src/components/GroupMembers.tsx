import type { ContactView, GroupMemberView } from "@parley/core";
import type { RefObject } from "react";
import { useTranslation } from "react-i18next";
import { initials } from "../format";
import { personName } from "../groups";

const SAFETY_LABEL = {
  verified: "group.safetyVerified",
  unverified: "group.safetyUnverified",
  member: "group.safetyMember",
} as const;

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
  const { t } = useTranslation();
  const { amAdmin, busy } = props;
  return (
    <ul className="member-list" aria-labelledby={props.labelledBy}>
      {sortMembers(props.members).map((m) => {
        const name = m.isMe ? t("group.you", { name: personName(m) }) : personName(m);
        return (
          <li key={m.identityKey} className="member">
            <span className="avatar avatar-small" aria-hidden="true">
              {initials(personName(m))}
            </span>
            <span className="member-text">
              <span className="member-name">
                <span className="member-name-text">{name}</span>
                {m.role === "admin" && <span className="tag tag-admin">{t("group.admin")}</span>}
              </span>
              {!m.isMe && (
                <span className={`member-safety safety-${m.safety.replace(/ /g, "-")}`}>
                  {m.safety === "me" ? "" : t(SAFETY_LABEL[m.safety])}
                  {m.devices > 1 ? t("group.devices", { count: m.devices }) : ""}
                </span>
              )}
            </span>
            {amAdmin && !m.isMe && (
              <span className="member-actions">
                <button type="button" disabled={busy} onClick={() => props.onToggleAdmin(m)}>
                  {m.role === "admin" ? t("group.removeAdmin") : t("group.makeAdmin")}
                  <span className="sr-only">{t("group.who", { name: personName(m) })}</span>
                </button>
                <button
                  type="button"
                  className="danger-outline"
                  disabled={busy}
                  onClick={() => props.onRemove(m)}
                >
                  {t("group.removeMember")}
                  <span className="sr-only">{t("group.who", { name: personName(m) })}</span>
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
  const { t } = useTranslation();
  const { candidates, picked } = props;
  return (
    <fieldset className="pick-list" ref={props.fieldRef}>
      <legend>{t("group.choose", { group: props.groupName })}</legend>
      {candidates.length === 0 && (
        <p className="muted">{props.contacts.length === 0 ? t("group.noContacts") : t("group.allIn")}</p>
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
            {!k.canSend && <span className="muted small">{t("group.stillConnecting")}</span>}
          </span>
        </label>
      ))}
    </fieldset>
  );
}
