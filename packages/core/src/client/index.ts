export * from "./events.js";
export type { FollowupName } from "./followups/types.js";
export { MAX_DELIVERY_DELAY_MS } from "./inbox/history.js";
export type { Rejection } from "./inbox/rejection.js";
export { type ClientEnvironment, ParleyClient } from "./parley-client.js";
export * from "./views.js";
