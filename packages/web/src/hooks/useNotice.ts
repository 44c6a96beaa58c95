import { useCallback, useRef, useState } from "react";
import { type Failed, failureNotice } from "../groups";

/** Reports a failure to the person: what failed and why, in the banner (see `failureNotice`). */
export type Report = (what: Failed, error: unknown) => void;

/** The value of the latest render, for callbacks that outlive it (events, awaits). */
export function useLatest<T>(value: T): { readonly current: T } {
  const ref = useRef(value);
  ref.current = value;
  return ref;
}

/**
 * The banner above the chats: one notice at a time, the newest wins, until dismissed. `report` is
 * where a failure goes that no dialog shows (a background refresh, a save, a send); it also writes
 * the error itself to the console, for whoever debugs.
 */
export function useNotice() {
  const [notice, setNotice] = useState<string | null>(null);
  const report: Report = useCallback((what, error) => {
    console.warn(`parley: ${what} failed:`, error);
    setNotice(failureNotice(what, error));
  }, []);
  const dismiss = useCallback(() => setNotice(null), []);
  return { notice, show: setNotice, report, dismiss };
}
