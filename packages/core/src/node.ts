/** Node-only additions to the core: native crypto. Browsers import "@parley/core" alone. */
export * from "./crypto/node-provider.js";
