/** The link's relay traffic: one sealed step per message on a unicast queue, waited for with a deadline. */

import type { SendAddress } from "../../content/common.js";
import { LinkError } from "../../messaging/device-link.js";
import { pad, unpad } from "../../protocol/padding.js";
import type { QueueCredentials } from "../../relay-client/signing.js";
import type { ClientContext } from "../context.js";

/** How long each side waits for the other's next step by default. */
export const LINK_STEP_TIMEOUT_MS = 10 * 60_000;
const POLL_MS = 250;

/** The next message on `queue` (taken off it), or LinkError("timeout") once `timeoutMs` has passed. */
export async function nextOnQueue(
  ctx: ClientContext,
  queue: QueueCredentials,
  timeoutMs: number,
  what: string,
): Promise<Uint8Array> {
  const relay = ctx.relay(queue.relay);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const batch = await relay.fetchMessages(queue);
    const first = batch[0];
    if (first) {
      await relay.ack(queue, first.msgId);
      try {
        return unpad(first.body);
      } catch {
        throw new LinkError(`${what}: a malformed message arrived on the link`);
      }
    }
    if (Date.now() >= deadline)
      throw new LinkError(`${what}: the other device did not answer in time`, "timeout");
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

export async function sendStep(ctx: ClientContext, to: SendAddress, sealed: Uint8Array): Promise<void> {
  await ctx.relay(to.relay).send(to.sendId, pad(sealed));
}
