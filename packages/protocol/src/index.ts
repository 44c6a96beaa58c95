/**
 * @parley/protocol: the wire contract between the relay and every client, and nothing else —
 * commands and frames (relay.ts), identifiers (ids.ts), refusals (errors.ts), padding, proof of work,
 * and the byte encodings they use. Runs in Node and in the browser; depends on zod and @noble/hashes.
 */
export * from "./blobs.js";
export * from "./encoding/base64url.js";
export * from "./encoding/bytes.js";
export * from "./errors.js";
export * from "./ids.js";
export * from "./padding.js";
export * from "./proof-of-work.js";
export * from "./relay.js";
