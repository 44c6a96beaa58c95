export type { DeletedContact } from "./contact-delete.js";
export * from "./events.js";
export type { DownloadTarget, GetFileOptions } from "./files/get-file.js";
export { type SendFileInput, type SentFile, safeFileName } from "./files/send-file.js";
export type { FollowupName } from "./followups/types.js";
export { MAX_DELIVERY_DELAY_MS } from "./inbox/history.js";
export type { Rejection } from "./inbox/rejection.js";
export { QUOTE_LENGTH } from "./lookup.js";
export { MIN_ID_PREFIX } from "./messages/actions.js";
export { findMentions } from "./messages/mentions.js";
export { type ClientEnvironment, ParleyClient } from "./parley-client.js";
export { type AudienceView, EVERYONE } from "./posts/audiences.js";
export type { CommentView, FeedOptions, PostView } from "./posts/feed.js";
export { imageId, MAX_POST_LIFETIME_MS, type PostInput } from "./posts/publish.js";
/** The feed's store layer, for tools that fill a profile (bench/src/feed.ts). */
export { type PostRecord, putPost } from "./posts/store.js";
export type { ResetResult } from "./reset/reset.js";
export { SEARCH_LIMIT, type SearchOptions } from "./search.js";
export * from "./views.js";
