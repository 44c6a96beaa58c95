export type { DeletedContact } from "./contact-delete.js";
export * from "./events.js";
export type { DownloadTarget, GetFileOptions } from "./files/get-file.js";
export { type SendFileInput, type SentFile, safeFileName } from "./files/send-file.js";
export type { FollowupName } from "./followups/types.js";
export { MAX_DELIVERY_DELAY_MS } from "./inbox/history.js";
export type { Rejection } from "./inbox/rejection.js";
export { type ClientEnvironment, ParleyClient } from "./parley-client.js";
export * from "./views.js";
