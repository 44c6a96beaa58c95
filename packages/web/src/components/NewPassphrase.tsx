import { useId } from "react";
import { useTranslation } from "react-i18next";
import { t } from "../i18n";
import { MIN_PASSPHRASE_LENGTH } from "../session";

/** What is wrong with a new passphrase and its confirmation, as a sentence; null when nothing is. */
export function passphraseProblem(passphrase: string, confirm: string): string | null {
  if (passphrase.length < MIN_PASSPHRASE_LENGTH) {
    return t("onboarding.shortPassphrase", { min: MIN_PASSPHRASE_LENGTH });
  }
  return confirm === passphrase ? null : t("onboarding.mismatch");
}

/**
 * The passphrase that encrypts this browser's store, typed twice: for a new profile (Onboarding)
 * and for a browser linked to an existing one (LinkThisDevice), each with its own hint.
 */
export function NewPassphrase(props: {
  passphrase: string;
  confirm: string;
  onPassphrase: (value: string) => void;
  onConfirm: (value: string) => void;
  hint: string;
}) {
  const { t } = useTranslation();
  const passId = useId();
  const passHint = useId();
  const confirmId = useId();
  return (
    <>
      <div className="field">
        <label htmlFor={passId}>{t("common.passphrase")}</label>
        <input
          id={passId}
          name="passphrase"
          type="password"
          autoComplete="new-password"
          aria-describedby={passHint}
          value={props.passphrase}
          onChange={(e) => props.onPassphrase(e.target.value)}
          required
        />
        <p id={passHint} className="hint">
          {props.hint}
        </p>
      </div>

      <div className="field">
        <label htmlFor={confirmId}>{t("onboarding.confirm")}</label>
        <input
          id={confirmId}
          name="confirm-passphrase"
          type="password"
          autoComplete="new-password"
          value={props.confirm}
          onChange={(e) => props.onConfirm(e.target.value)}
          required
        />
      </div>
    </>
  );
}
