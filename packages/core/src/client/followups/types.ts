/**
 * Follow-ups: work a delivery asks for once it is stored, done after the profile lock is released
 * (a receipt, KeyPackages, our name in a group just joined, removing a member who left, retrying
 * held messages). Each kind is a file in this folder and one line in the registry (run.ts).
 */
import type { MlsCiphersuiteName } from "../../crypto/provider.js";
import type { ReaddIntent } from "../../store/group-order.js";
import type { ClientContext } from "../context.js";
import type { ClientEvent } from "../events.js";

export interface FollowupPayloads {
  receipt: { conversationId: string; ids: string[] };
  "retry-held": { conversationId: string };
  /** `count` KeyPackages of each of `cipherSuites` (default: every suite the engine speaks). */
  /** `retire`: our last-resort KeyPackage a Welcome used, to replace (client/key-packages.ts). */
  "key-packages": {
    conversationId: string;
    count: number;
    cipherSuites?: MlsCiphersuiteName[];
    retire?: string;
  };
  "group-profile": { conversationId: string };
  "remove-leaver": { conversationId: string; identityKey: string };
  /** Our commit's echo came back (groups/commit-order.ts); `move`: announce a queue move again. */
  "group-order": { conversationId: string; move?: boolean };
  /** A join request through a link that needs no approval: add them (group-links/requests.ts). */
  "group-link-add": { conversationId: string; requestId: string };
  /** A member's device asked us to re-add it (inbox/handlers/group-readd.ts): commit it. */
  "group-readd": { conversationId: string; readd: ReaddIntent };
  /** Our profile photo for a contact we just connected with (client/profile-photo.ts). */
  "profile-photo": { conversationId: string };
}
export type FollowupName = keyof FollowupPayloads;
export type Followup = { [K in FollowupName]: { kind: K } & FollowupPayloads[K] }[FollowupName];
export type FollowupOf<K extends FollowupName> = Extract<Followup, { kind: K }>;

/** Runs every follow-up of one kind from one batch of deliveries; returns the events it caused. */
export interface FollowupRunner<K extends FollowupName> {
  run(ctx: ClientContext, items: FollowupOf<K>[]): Promise<ClientEvent[]>;
}
