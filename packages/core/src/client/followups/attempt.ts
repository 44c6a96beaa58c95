import type { ClientEvent, FollowupKind } from "../events.js";

/**
 * What was received is stored already: a follow-up that fails (the contact's queue is gone, the
 * relay is down) is reported as a `followup_failed` warning of its kind, never allowed to hide the
 * messages that asked for it.
 */
export async function attempt(
  events: ClientEvent[],
  conversationId: string,
  followup: FollowupKind,
  work: () => Promise<void>,
): Promise<void> {
  try {
    await work();
  } catch (e) {
    events.push({
      type: "warning",
      code: "followup_failed",
      conversationId,
      followup,
      cause: (e as Error).message,
    });
  }
}
