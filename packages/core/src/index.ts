export * from "./crypto/noble-provider.js";
export * from "./crypto/provider.js";
export * from "./encoding/base64url.js";
export * from "./encoding/bytes.js";
export * from "./protocol/padding.js";
export * from "./protocol/relay.js";
