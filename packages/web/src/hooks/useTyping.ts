import type { ParleyClient, PersonRef } from "@parley/core";
import { useCallback, useRef } from "react";
import { personName } from "../groups.js";

/** How long "typing…" shows after the last typing indicator; how often we send ours while typing. */
export const TYPING_SHOWN_MS = 6000;
export const TYPING_RESEND_MS = 4000;

/** Someone typing somewhere, until a time. */
export interface Typing {
  conversationId: string;
  by: PersonRef;
  until: number;
}

/** The list after a typing indicator (or a message, which ends one: `typing` false). */
export function withTyping(
  all: Typing[],
  conversationId: string,
  by: PersonRef,
  typing: boolean,
  now = Date.now(),
): Typing[] {
  const others = all.filter(
    (t) => t.conversationId !== conversationId || t.by.identityKey !== by.identityKey,
  );
  return typing ? [...others, { conversationId, by, until: now + TYPING_SHOWN_MS }] : others;
}

export const withoutExpired = (all: Typing[], now = Date.now()): Typing[] => {
  const live = all.filter((t) => t.until > now);
  return live.length === all.length ? all : live;
};

export const typingNames = (all: Typing[], conversationId: string): string[] =>
  all.filter((t) => t.conversationId === conversationId).map((t) => personName(t.by));

/**
 * Sends our typing indicator while the person types: at most one every TYPING_RESEND_MS per
 * conversation. The engine sends it only where typing indicators are on; a failure is not worth a
 * notice (the next keystrokes try again).
 */
export function useTypingSender(client: ParleyClient): (conversationId: string) => void {
  const last = useRef(new Map<string, number>());
  return useCallback(
    (conversationId: string) => {
      const now = Date.now();
      if (now - (last.current.get(conversationId) ?? 0) < TYPING_RESEND_MS) return;
      last.current.set(conversationId, now);
      client.sendTyping(conversationId, true).catch((e: unknown) => console.warn("parley: typing", e));
    },
    [client],
  );
}
