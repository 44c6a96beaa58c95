import type { ContactView, GroupMemberView, ParleyClient } from "@parley/core";
import { type FormEvent, type ReactNode, useEffect, useId, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import type { ConversationSummary } from "../conversations";
import { friendlyError, personName, personRef } from "../groups";
import { contactRef, type LineEvent, lineText } from "../lines";
import { ConversationSettings } from "./ConversationSettings";
import { Dialog } from "./Dialog";
import { GroupLinkSection } from "./GroupLink";
import { ContactPicker, MemberList } from "./GroupMembers";

type Mode =
  | { kind: "info" }
  | { kind: "add" }
  | { kind: "rename" }
  | { kind: "remove"; member: GroupMemberView }
  | { kind: "leave" };

/**
 * A group's members (names, admin badge, safety status) and what can be done with them: admins add
 * people, remove them, grant or take back admin, rename the group; everyone can leave.
 */
export function GroupInfoDialog(props: {
  client: ParleyClient;
  conversation: ConversationSummary;
  members: GroupMemberView[] | null;
  contacts: ContactView[];
  initialMode: "info" | "add";
  /** After a change this device made: `lines` say what it was, for the chat. */
  onChanged: (lines: LineEvent[]) => Promise<void>;
  onLeft: () => Promise<void>;
  /** Muted or archived. */
  onSettingsChanged: () => Promise<void>;
  onClose: () => void;
}) {
  const { t } = useTranslation();
  const { client, conversation: c, members } = props;
  const [mode, setMode] = useState<Mode>({ kind: props.initialMode });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [picked, setPicked] = useState<Set<string>>(new Set());
  const [newName, setNewName] = useState(c.title);
  const headingRef = useRef<HTMLHeadingElement>(null);
  const nameInput = useRef<HTMLInputElement>(null);
  const cancelButton = useRef<HTMLButtonElement>(null);
  const pickList = useRef<HTMLFieldSetElement>(null);
  const nameId = useId();
  const membersHeadingId = useId();

  const me = members?.find((m) => m.isMe);
  const amAdmin = me ? me.role === "admin" : c.admin;
  const memberKeys = new Set(members?.map((m) => m.identityKey) ?? []);
  const candidates = props.contacts.filter((k) => !memberKeys.has(k.identityKey));

  // Each view puts the keyboard where its work starts (a confirmation: on Cancel, the safe choice).
  useEffect(() => {
    if (mode.kind === "info") headingRef.current?.focus();
    else if (mode.kind === "rename") nameInput.current?.select();
    else if (mode.kind === "add") pickList.current?.querySelector<HTMLInputElement>("input:enabled")?.focus();
    else cancelButton.current?.focus();
  }, [mode.kind]);

  async function run(action: () => Promise<LineEvent[]>, after: Mode = { kind: "info" }) {
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      const lines = await action();
      await props.onChanged(lines);
      setDone(lines.map((line) => t("group.done", { what: lineText(line) })).join(" "));
      setMode(after);
    } catch (e) {
      setError(friendlyError(e));
    } finally {
      setBusy(false);
    }
  }

  function addPicked(e: FormEvent) {
    e.preventDefault();
    const chosen = props.contacts.filter((k) => picked.has(k.id));
    if (chosen.length === 0) return setError(t("group.chooseOne"));
    void run(async () => {
      await client.addToGroup(
        c.id,
        chosen.map((k) => k.id),
      );
      setPicked(new Set());
      return [{ code: "youAdded", people: chosen.map(contactRef) }];
    });
  }

  function rename(e: FormEvent) {
    e.preventDefault();
    const name = newName.trim();
    if (name.length === 0) return setError(t("group.needName"));
    if (name === c.title) return setMode({ kind: "info" });
    void run(async () => {
      await client.renameGroup(c.id, name);
      return [{ code: "youRenamed", name }];
    });
  }

  function toggleAdmin(m: GroupMemberView) {
    const grant = m.role !== "admin";
    void run(async () => {
      await client.setGroupAdmin(c.id, m.identityKey, grant);
      return [{ code: "youSetAdmin", who: personRef(m), admin: grant }];
    });
  }

  function remove(m: GroupMemberView) {
    void run(async () => {
      await client.removeFromGroup(c.id, [m.identityKey]);
      return [{ code: "youRemoved", who: personRef(m) }];
    });
  }

  async function leave() {
    setBusy(true);
    setError(null);
    try {
      await client.leaveGroup(c.id);
      await props.onLeft();
      props.onClose();
    } catch (e) {
      setError(friendlyError(e));
      setBusy(false);
    }
  }

  function cancel() {
    setError(null);
    // Opened straight at "Add people" (from an empty group): Cancel closes, as it opened.
    if (mode.kind === "add" && props.initialMode === "add") props.onClose();
    else setMode({ kind: "info" });
  }

  const errorLine = error && (
    <p className="error" role="alert">
      {error}
    </p>
  );

  let body: ReactNode;
  switch (mode.kind) {
    case "add":
      body = (
        <form onSubmit={addPicked} noValidate>
          <ContactPicker
            fieldRef={pickList}
            groupName={c.title}
            contacts={props.contacts}
            candidates={candidates}
            picked={picked}
            onPick={setPicked}
          />
          {candidates.length > 0 && <p className="hint">{t("group.addHint")}</p>}
          {errorLine}
          <div className="actions">
            <button type="button" onClick={cancel}>
              {t("common.cancel")}
            </button>
            {candidates.length > 0 && (
              <button type="submit" className="primary" disabled={busy || picked.size === 0}>
                {busy ? t("group.adding") : t("group.addN", { count: picked.size })}
              </button>
            )}
          </div>
        </form>
      );
      break;
    case "rename":
      body = (
        <form onSubmit={rename} noValidate>
          <div className="field">
            <label htmlFor={nameId}>{t("common.groupName")}</label>
            <input
              id={nameId}
              value={newName}
              autoComplete="off"
              onChange={(e) => setNewName(e.target.value)}
              ref={nameInput}
            />
          </div>
          {errorLine}
          <div className="actions">
            <button type="button" onClick={cancel}>
              {t("common.cancel")}
            </button>
            <button type="submit" className="primary" disabled={busy}>
              {busy ? t("common.saving") : t("common.saveName")}
            </button>
          </div>
        </form>
      );
      break;
    case "remove": {
      const who = personName(mode.member);
      body = (
        <>
          <p>{t("group.removeText", { who, group: c.title })}</p>
          {errorLine}
          <div className="actions">
            <button type="button" onClick={cancel} ref={cancelButton}>
              {t("common.cancel")}
            </button>
            <button type="button" className="danger" disabled={busy} onClick={() => remove(mode.member)}>
              {busy ? t("group.removing") : t("group.remove", { who })}
            </button>
          </div>
        </>
      );
      break;
    }
    case "leave":
      body = (
        <>
          <p>{t("group.leaveText", { group: c.title })}</p>
          {errorLine}
          <div className="actions">
            <button type="button" onClick={cancel} ref={cancelButton}>
              {t("common.cancel")}
            </button>
            <button type="button" className="danger" disabled={busy} onClick={leave}>
              {busy ? t("group.leaving") : t("group.leave")}
            </button>
          </div>
        </>
      );
      break;
    case "info":
      body = (
        <>
          <div className="group-name-row">
            <div className="group-name-text">
              <span className="muted small">{t("common.groupName")}</span>
              <strong>{c.title}</strong>
            </div>
            {amAdmin && (
              <button
                type="button"
                onClick={() => {
                  setNewName(c.title);
                  setError(null);
                  setMode({ kind: "rename" });
                }}
              >
                {t("common.rename")}
              </button>
            )}
          </div>

          <div className="members-head">
            <h3 id={membersHeadingId} ref={headingRef} tabIndex={-1}>
              {members ? t("group.membersN", { count: members.length }) : t("group.members")}
            </h3>
            {amAdmin && (
              <button
                type="button"
                className="primary"
                onClick={() => {
                  setError(null);
                  setDone(null);
                  setMode({ kind: "add" });
                }}
              >
                {t("group.addPeople")}
              </button>
            )}
          </div>
          {done && (
            <p className="notice" role="status">
              {done}
            </p>
          )}
          {errorLine}
          {!members ? (
            <p className="muted" aria-busy="true">
              {t("group.loading")}
            </p>
          ) : (
            <MemberList
              members={members}
              labelledBy={membersHeadingId}
              amAdmin={amAdmin}
              busy={busy}
              onToggleAdmin={toggleAdmin}
              onRemove={(m) => {
                setError(null);
                setMode({ kind: "remove", member: m });
              }}
            />
          )}
          {amAdmin && c.status === "active" && (
            <GroupLinkSection client={client} group={c.id} onAdded={props.onChanged} />
          )}
          <ConversationSettings client={client} conversation={c} onChanged={props.onSettingsChanged} />
          <div className="actions actions-split">
            <button
              type="button"
              className="danger-outline"
              onClick={() => {
                setError(null);
                setDone(null);
                setMode({ kind: "leave" });
              }}
            >
              {t("group.leave")}
            </button>
            <button type="button" onClick={props.onClose}>
              {t("common.done")}
            </button>
          </div>
        </>
      );
      break;
  }

  const title = t(
    mode.kind === "add"
      ? "group.titleAdd"
      : mode.kind === "rename"
        ? "group.titleRename"
        : mode.kind === "remove"
          ? "group.titleRemove"
          : mode.kind === "leave"
            ? "group.titleLeave"
            : "group.titleInfo",
  );
  return (
    <Dialog title={title} onClose={props.onClose} wide>
      {body}
    </Dialog>
  );
}
