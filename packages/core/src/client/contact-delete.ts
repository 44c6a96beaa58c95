/**
 * Deleting a contact: everything this device holds of them goes — the contact, each 1:1
 * conversation with them (the current one and any it replaced) with its history and MLS state, the
 * KeyPackages they gave us — and the receive queues of those conversations are deleted on the relay,
 * so nothing more they send is stored for us.
 *
 * They are not told. What they send afterwards is refused by the relay (`unknown_queue`), and their
 * client reports it undeliverable after its outbox gives up (OUTBOX_MAX_AGE_MS). Groups we share
 * with them are not touched: they stay members, under the name the group knows them by. To talk
 * again, one of us makes a new invite; a new invite between the same two people after this makes a
 * new contact (nothing of the old one is left to merge with).
 */
import type { ClientContext } from "./context.js";
import { requireProfile } from "./context.js";
import { findContact } from "./lookup.js";

export interface DeletedContact {
  /** The name the contact had. */
  name: string;
  /** Conversations forgotten (the current one, and those it had replaced). */
  conversations: number;
  /** Receive queues deleted on the relay; one that could not be reached is left to expire. */
  queuesDeleted: number;
  queuesLeftToExpire: number;
}

export async function deleteContact(ctx: ClientContext, nameOrId: string): Promise<DeletedContact> {
  await requireProfile(ctx);
  const { contact, queues } = await ctx.lock.run(async () => {
    const contact = await findContact(ctx, nameOrId);
    const conversations = (await ctx.repo.conversations()).filter(
      (c) => c.kind === "direct" && c.contactId === contact.id,
    );
    const batch = ctx.repo.batch();
    for (const c of conversations) await ctx.repo.deleteConversation(batch, c);
    await ctx.repo.deleteContact(batch, contact);
    await ctx.repo.commit(batch);
    return { contact, queues: conversations.map((c) => c.receive) };
  });
  // After the local delete has committed: a relay that cannot be reached now does not keep the
  // contact on this device; their queues then expire on the relay unused.
  let queuesDeleted = 0;
  for (const queue of queues) {
    try {
      await ctx.relay(queue.relay).deleteQueue(queue);
      queuesDeleted++;
    } catch {
      // unreachable, or already gone (expired): nothing more to do
    }
  }
  return {
    name: contact.name,
    conversations: queues.length,
    queuesDeleted,
    queuesLeftToExpire: queues.length - queuesDeleted,
  };
}
