import type { GroupMemberView } from "@parley/core";
import { useCallback, useEffect, useRef, useState } from "react";
import type { ConversationSummary } from "../conversations";
import { isNoLongerMember } from "../groups";
import type { LineEvent, SystemLine } from "../lines";
import type { Session } from "../session";
import { type Report, useLatest } from "./useNotice";

/**
 * The open group's members (for its header and its info panel), and its chronicle: the lines a group
 * chat shows between messages ("Bob was added" from the engine's events, "You added Bob" for a change
 * this device made), written one at a time so they land in the order their events came.
 */
export function useGroup(
  session: Session,
  selected: ConversationSummary | null,
  report: Report,
  /** Shows lines just written, if their conversation is open (useMessages). */
  addLines: (conversationId: string, lines: SystemLine[]) => void,
) {
  const client = session.client;
  /** Null: not a group, not a member, or not loaded yet. */
  const [members, setMembers] = useState<GroupMemberView[] | null>(null);
  const selectedRef = useLatest(selected);
  const selectedId = selected?.id;
  const selectedKind = selected?.kind;
  const selectedStatus = selected?.status;

  useEffect(() => {
    setMembers(null);
    if (!selectedId || selectedKind !== "group" || selectedStatus !== "active") return;
    let current = true;
    client
      .groupMembers(selectedId)
      .then((list) => {
        if (current) setMembers(list);
      })
      .catch((e: unknown) => report("load-members", e));
    return () => {
      current = false;
    };
  }, [client, selectedId, selectedKind, selectedStatus, report]);

  /** Reads the members again if `conversationId` is the open group. Never rejects. */
  const refreshMembers = useCallback(
    async (conversationId: string): Promise<void> => {
      const open = selectedRef.current;
      if (open?.id !== conversationId || open.kind !== "group") return;
      try {
        const current = await client.groupMembers(conversationId);
        if (selectedRef.current?.id === conversationId) setMembers(current);
      } catch (e) {
        // Removed from the group, or just left it: the list is not reloaded yet, so the group still
        // looks active here. Its status line says what happened once it is; nothing to tell.
        if (!isNoLongerMember(e)) report("load-members", e);
      }
    },
    [client, selectedRef, report],
  );

  const queue = useRef<Promise<void>>(Promise.resolve());
  /** Writes `events` as lines of `conversationId`; rejects if they could not be saved (caller reports). */
  const chronicle = useCallback(
    (conversationId: string, events: LineEvent[]): Promise<void> => {
      const work = async () => {
        await refreshMembers(conversationId);
        addLines(conversationId, await session.addSystemLines(conversationId, events));
      };
      const next = queue.current.then(work);
      // The queue only keeps the order; `next` carries the failure to the caller, who reports it.
      queue.current = next.catch(() => undefined);
      return next;
    },
    [session, refreshMembers, addLines],
  );

  return { members, refreshMembers, chronicle };
}
