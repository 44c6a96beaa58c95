import { type FormEvent, useId, useState } from "react";
import { friendlyError } from "../groups";
import { Dialog, FormFooter } from "./Dialog";

const MAX_GROUP_NAME = 100;

export function NewGroupDialog(props: {
  onCreate: (name: string, options: { pq: boolean }) => Promise<void>;
  onClose: () => void;
}) {
  const [name, setName] = useState("");
  const [pq, setPq] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const nameId = useId();
  const hintId = useId();
  const pqHintId = useId();

  async function submit(e: FormEvent) {
    e.preventDefault();
    const trimmed = name.trim();
    if (trimmed.length === 0) return setError("Give the group a name.");
    setBusy(true);
    setError(null);
    try {
      await props.onCreate(trimmed, { pq });
      props.onClose();
    } catch (err) {
      setError(friendlyError(err));
      setBusy(false);
    }
  }

  return (
    <Dialog title="New group" onClose={props.onClose}>
      <form onSubmit={submit} noValidate>
        <div className="field">
          <label htmlFor={nameId}>Group name</label>
          <input
            id={nameId}
            value={name}
            maxLength={MAX_GROUP_NAME}
            autoComplete="off"
            aria-describedby={hintId}
            onChange={(e) => setName(e.target.value)}
            data-autofocus
          />
          <p id={hintId} className="hint">
            Only the members see the name: it is encrypted like the messages. You can add people next.
          </p>
        </div>
        <div className="field">
          <label className="check">
            <input
              type="checkbox"
              checked={pq}
              aria-describedby={pqHintId}
              onChange={(e) => setPq(e.target.checked)}
            />
            Post-quantum group
          </label>
          <p id={pqHintId} className="hint">
            Keys are agreed with X-Wing (ML-KEM-768 and X25519), so recorded messages stay safe even from a
            future quantum computer. Larger and slower for big groups; it cannot be changed later.
          </p>
        </div>
        <FormFooter
          error={error}
          busy={busy}
          submitLabel="Create group"
          busyLabel="Creating…"
          onCancel={props.onClose}
        />
      </form>
    </Dialog>
  );
}
