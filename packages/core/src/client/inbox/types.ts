/** What handling one delivery produced: events to report, follow-ups to run, the MLS state saved. */
import type { BodyOf, BodyType } from "../../content/index.js";
import type { GroupState } from "../../mls/engine.js";
import type { Batch } from "../../store/batch.js";
import type {
  ContactRecord,
  DirectConversationRecord,
  GroupConversationRecord,
} from "../../store/records.js";
import type { ClientContext } from "../context.js";
import type { ClientEvent } from "../events.js";
import type { Followup } from "../followups/types.js";

export interface Processed {
  events: ClientEvent[];
  followups: Followup[];
  saved?: { groupId: string; epoch: bigint } | undefined;
  /** Kept for a later epoch (held.ts): its commit has not been processed. */
  held?: true;
}

export const nothing = (): Processed => ({ events: [], followups: [] });

/** The content's id and the time its sender stamped on it (inside the encryption). */
export interface ContentMeta {
  id: string;
  sentAt: number;
}

/** A 1:1 application message, decrypted and parsed; its writes go to `batch`. */
export interface DirectDelivery<T extends BodyType> {
  ctx: ClientContext;
  batch: Batch;
  conversation: DirectConversationRecord;
  contact: ContactRecord;
  content: ContentMeta;
  body: BodyOf<T>;
}

/** A group application message, decrypted and parsed. `state`: the group after it. */
export interface GroupDelivery<T extends BodyType> {
  ctx: ClientContext;
  batch: Batch;
  conversation: GroupConversationRecord;
  state: GroupState;
  /** The sender's identity key (base64url), verified by MLS. */
  sender: string;
  /** The sender's device key (base64url), verified by MLS (only some kinds need it). */
  senderDevice?: string;
  content: ContentMeta;
  body: BodyOf<T>;
}

/**
 * What a device does with one kind of content. A kind with no `direct` (or no `group`) handler is
 * rejected in that kind of conversation. One file per kind in handlers/, one line in the registry.
 */
export interface ContentHandler<T extends BodyType> {
  direct?: (delivery: DirectDelivery<T>) => Promise<Processed>;
  group?: (delivery: GroupDelivery<T>) => Promise<Processed>;
}

export type HandlerRegistry = { [T in BodyType]: ContentHandler<T> };
