/**
 * The whole local key layout, in one place. Keys are not encrypted by the encrypted store (only
 * values are), so a key holds nothing but local random ids, relay ids, hashes and counters:
 * never a name, an identity key or a device key of anyone (docs/01-architecture.md, "store/").
 */

/** The layout version this code reads and writes; see migrations.ts. */
export const SCHEMA_VERSION = 5;

const pad = (n: number) => n.toString().padStart(10, "0");

export const Keys = {
  /** {version}: the layout version of this profile. Absent: version 1 (before versions). */
  schema: "schema",
  profile: "profile",
  contact: (id: string) => `contact/${id}`,
  contacts: "contact/",
  /**
   * A random token written anew with every change to a contact or to the KeyPackages contacts gave
   * us: an audience reconciled at one token need not read every contact again (client/posts/).
   */
  contactsRevision: "contacts-rev",
  conversation: (id: string) => `conv/${id}`,
  conversations: "conv/",
  invite: (queueId: string) => `invite/${queueId}`,
  invites: "invite/",
  /** Which invite or conversation a receive queue belongs to. */
  route: (queueId: string) => `route/${queueId}`,
  /** Relay messages processed (or rejected) already: redeliveries are skipped. */
  seen: (queueId: string, msgId: string) => `seen/${queueId}/${msgId}`,
  /** KeyPackages contacts gave us, one key each so any can be used once and deleted. */
  theirKeyPackage: (contactId: string, ref: string) => `kp-theirs/${contactId}/${ref}`,
  theirKeyPackages: (contactId: string) => `kp-theirs/${contactId}/`,
  everyTheirKeyPackage: "kp-theirs/",
  /** Private halves of KeyPackages we gave out, by KeyPackage reference. */
  ownKeyPackage: (ref: string) => `kp-own/${ref}`,
  ownKeyPackages: "kp-own/",
  /** The names members chose for themselves in a group: one map per group, identity keys inside. */
  memberNames: (conversationId: string) => `gnames/${conversationId}`,
  /** Broadcast (group) queues: the last message processed, where the next fetch starts. */
  cursor: (queueId: string) => `cursor/${queueId}`,
  message: (conversationId: string, order: string) => `msg/${conversationId}/${order}`,
  messages: (conversationId: string) => `msg/${conversationId}/`,
  /** Every conversation's history (its searchable text is the messages', KvWrite.text). */
  allMessages: "msg/",
  messageIndex: (conversationId: string, id: string) => `msgid/${conversationId}/${id}`,
  /** Edits, deletions and reactions waiting for their message: by its content id, then their own. */
  pendingChange: (conversationId: string, target: string, id: string) =>
    `pending/${conversationId}/${target}/${id}`,
  pendingChanges: (conversationId: string, target?: string) =>
    target === undefined ? `pending/${conversationId}/` : `pending/${conversationId}/${target}/`,
  /** The furthest point seen in each sender leaf's application ratchet (the device key inside). */
  ratchetMark: (conversationId: string, leafIndex: number) => `ratchet/${conversationId}/${pad(leafIndex)}`,
  /** Messages of an epoch not reached yet, kept until the commit that leads there is processed. */
  held: (conversationId: string, order: string) => `held/${conversationId}/${order}`,
  helds: (conversationId: string) => `held/${conversationId}/`,
  /**
   * Our commit to a group that the queue has not yet confirmed as its epoch's first (client/groups/
   * commit-order.ts): one at a time per group.
   */
  pendingCommit: (conversationId: string) => `gcommit/${conversationId}`,
  welcomeProgress: (conversationId: string) => `gcommit-sent/${conversationId}`,
  /**
   * Our commit to a 1:1 chat whose queue our devices share, until that queue confirms it as its
   * epoch's first (client/devices/direct-order.ts): one at a time per chat.
   */
  directCommit: (conversationId: string) => `dcommit/${conversationId}`,
  directCommits: "dcommit/",
  /** Application messages we sent to a group, by SHA-256 (hex), until their echo confirms their epoch. */
  groupSent: (conversationId: string, digest: string) => `gsent/${conversationId}/${digest}`,
  groupSents: (conversationId: string) => `gsent/${conversationId}/`,
  /** A group's invite link that we made (store/group-links.ts): one per group at a time. */
  groupLink: (conversationId: string) => `glink/${conversationId}`,
  groupLinks: "glink/",
  /** Join requests through a group link, waiting for an admin's approval: by a local random id. */
  joinRequest: (conversationId: string, id: string) => `gjreq/${conversationId}/${id}`,
  joinRequests: (conversationId: string) => `gjreq/${conversationId}/`,
  /** Our own requests to join a group through a link, by the queue its answer comes to. */
  groupJoin: (queueId: string) => `gjoin/${queueId}`,
  groupJoins: "gjoin/",
  /** A group's Welcome for a device being linked (client/devices/), by link (invite) id. */
  linkWelcome: (link: string, conversationId: string) => `lwelcome/${link}/${conversationId}`,
  /** When this device last refreshed its keys in a group, and the messages since (key-schedule.ts). */
  keySchedule: (conversationId: string) => `rekey/${conversationId}`,
  mlsEpoch: (groupId: string) => `mls/${groupId}/epoch`,
  mlsEpochPart: (groupId: string) => `mls/${groupId}/e`,
  mlsRatchetPart: (groupId: string) => `mls/${groupId}/r`,
  /** The ratchet tree stored apart, piece by piece (mls/engine.ts TreePieces), in index order. */
  mlsTreePiece: (groupId: string, index: number) => `mls/${groupId}/t/${String(index).padStart(6, "0")}`,
  mlsTreePieces: (groupId: string) => `mls/${groupId}/t/`,
  /** How far our application ratchet may go before the next sync to disk (client/sending-ahead.ts). */
  mlsSendingAhead: (groupId: string) => `mls/${groupId}/ahead`,
  /**
   * Messages sealed and stored but not yet taken by the relay (client/outbox-delivery.ts), in the
   * order they were written: `order` is the message's order key (time, then content id).
   */
  outbox: (order: string) => `outbox/${order}`,
  outboxAll: "outbox/",
  /**
   * SHA-256 (hex) of MLS messages this device sent or accepted in a conversation: the same
   * ciphertext again (an outbox retry whose first try reached the relay, our own group echo under
   * a msgId we never learnt) is a duplicate, skipped in silence before MLS would refuse it.
   */
  payloadSeen: (conversationId: string, digest: string) => `pseen/${conversationId}/${digest}`,
  /**
   * {keyPackages, needsReadd}: work a migration left for the next sync (conversation ids inside),
   * done and removed there (client/after-migration.ts).
   */
  afterMigration: "after-migration",
  /** {deviceKey: {replacedBy, at}}: contacts' device keys replaced by a key reset (client/reset/). */
  keyResets: "key-resets",
  /** Our own devices by name (client/devices/): device keys inside the value only. */
  devices: "devices",
  /** A file upload in progress (resumable), by a hash of its conversation and source. */
  upload: (id: string) => `upload/${id}`,
  uploads: "upload/",
  /**
   * The feed (client/posts/store.ts): a post with its comments and likes; its place in the feed
   * (`at`: a zero-padded time) and, for a vanishing post, its time to go; our audiences.
   */
  post: (conversationId: string, id: string) => `post/${conversationId}/${id}`,
  posts: (conversationId = "") => `post/${conversationId}${conversationId ? "/" : ""}`,
  postOrder: (at: string, conversationId: string, id: string) => `post-order/${at}/${conversationId}/${id}`,
  postOrders: "post-order/",
  postExpiry: (at: string, conversationId: string, id: string) => `post-expiry/${at}/${conversationId}/${id}`,
  postExpiries: "post-expiry/",
  audience: (id: string) => `audience/${id}`,
  audiences: "audience/",
  /**
   * The prefixes under which a conversation's own data lives (history, its index, held messages,
   * ratchet marks, digests of accepted messages), and its receive queue's: forgetting a
   * conversation deletes everything under them (client/contact-delete.ts).
   */
  conversationData: (conversationId: string) => [
    `msg/${conversationId}/`,
    `msgid/${conversationId}/`,
    `held/${conversationId}/`,
    `ratchet/${conversationId}/`,
    `pseen/${conversationId}/`,
    `pending/${conversationId}/`,
    `gsent/${conversationId}/`,
    `gcommit/${conversationId}`,
    `rekey/${conversationId}`,
  ],
  queueData: (queueId: string) => [`seen/${queueId}/`],
  /** Layouts of earlier versions, read only by migrations. */
  legacy: {
    /** v1–2: `gname/<conversation>/<identityKey>` → name: an identity key in a clear key. */
    memberNames: "gname/",
    /** v1–2: `gen/<conversation>/<deviceKey>` → {epoch, generation}: a device key in a clear key. */
    ratchetSeen: "gen/",
  },
};
