import type { ContactView, GroupMemberView, ParleyClient } from "@parley/core";
import { type FormEvent, type ReactNode, useEffect, useId, useRef, useState } from "react";
import type { ConversationSummary } from "../conversations";
import { friendlyError, joinNames, personName } from "../groups";
import { ConversationSettings } from "./ConversationSettings";
import { Dialog } from "./Dialog";
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
  onChanged: (lines: string[]) => Promise<void>;
  onLeft: () => Promise<void>;
  /** Muted or archived. */
  onSettingsChanged: () => Promise<void>;
  onClose: () => void;
}) {
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

  async function run(action: () => Promise<string[]>, after: Mode = { kind: "info" }) {
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      const lines = await action();
      await props.onChanged(lines);
      setDone(lines.join(". "));
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
    if (chosen.length === 0) return setError("Choose at least one person to add.");
    void run(async () => {
      await client.addToGroup(
        c.id,
        chosen.map((k) => k.id),
      );
      setPicked(new Set());
      return [`You added ${joinNames(chosen.map((k) => k.name))}`];
    });
  }

  function rename(e: FormEvent) {
    e.preventDefault();
    const name = newName.trim();
    if (name.length === 0) return setError("Give the group a name.");
    if (name === c.title) return setMode({ kind: "info" });
    void run(async () => {
      await client.renameGroup(c.id, name);
      return [`You renamed the group to “${name}”`];
    });
  }

  function toggleAdmin(m: GroupMemberView) {
    const grant = m.role !== "admin";
    const who = personName(m);
    void run(async () => {
      await client.setGroupAdmin(c.id, m.identityKey, grant);
      return [grant ? `You made ${who} an admin` : `${who} is no longer an admin`];
    });
  }

  function remove(m: GroupMemberView) {
    void run(async () => {
      await client.removeFromGroup(c.id, [m.identityKey]);
      return [`You removed ${personName(m)}`];
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
          {candidates.length > 0 && (
            <p className="hint">
              Everyone you add can read the group’s messages from now on, not the ones before.
            </p>
          )}
          {errorLine}
          <div className="actions">
            <button type="button" onClick={cancel}>
              Cancel
            </button>
            {candidates.length > 0 && (
              <button type="submit" className="primary" disabled={busy || picked.size === 0}>
                {busy ? "Adding…" : picked.size > 1 ? `Add ${picked.size} people` : "Add to group"}
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
            <label htmlFor={nameId}>Group name</label>
            <input
              id={nameId}
              value={newName}
              maxLength={100}
              autoComplete="off"
              onChange={(e) => setNewName(e.target.value)}
              ref={nameInput}
            />
          </div>
          {errorLine}
          <div className="actions">
            <button type="button" onClick={cancel}>
              Cancel
            </button>
            <button type="submit" className="primary" disabled={busy}>
              {busy ? "Saving…" : "Save name"}
            </button>
          </div>
        </form>
      );
      break;
    case "remove": {
      const who = personName(mode.member);
      body = (
        <>
          <p>
            Remove {who} from “{c.title}”? They will keep what they have already read, but will not receive
            anything sent from now on.
          </p>
          {errorLine}
          <div className="actions">
            <button type="button" onClick={cancel} ref={cancelButton}>
              Cancel
            </button>
            <button type="button" className="danger" disabled={busy} onClick={() => remove(mode.member)}>
              {busy ? "Removing…" : `Remove ${who}`}
            </button>
          </div>
        </>
      );
      break;
    }
    case "leave":
      body = (
        <>
          <p>
            Leave “{c.title}”? You will stop receiving its messages, and this device forgets the group’s keys.
            The messages you already have stay here. Only an admin can add you back.
          </p>
          {errorLine}
          <div className="actions">
            <button type="button" onClick={cancel} ref={cancelButton}>
              Cancel
            </button>
            <button type="button" className="danger" disabled={busy} onClick={leave}>
              {busy ? "Leaving…" : "Leave group"}
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
              <span className="muted small">Group name</span>
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
                Rename
              </button>
            )}
          </div>

          <div className="members-head">
            <h3 id={membersHeadingId} ref={headingRef} tabIndex={-1}>
              Members{members ? ` (${members.length})` : ""}
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
                Add people
              </button>
            )}
          </div>
          {done && (
            <p className="notice" role="status">
              {done}.
            </p>
          )}
          {errorLine}
          {!members ? (
            <p className="muted" aria-busy="true">
              Loading members…
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
              Leave group
            </button>
            <button type="button" onClick={props.onClose}>
              Done
            </button>
          </div>
        </>
      );
      break;
  }

  const title =
    mode.kind === "add"
      ? "Add people"
      : mode.kind === "rename"
        ? "Rename group"
        : mode.kind === "remove"
          ? "Remove from group?"
          : mode.kind === "leave"
            ? "Leave group?"
            : "Group info";
  return (
    <Dialog title={title} onClose={props.onClose} wide>
      {body}
    </Dialog>
  );
}
