/** Files: streaming encryption, type detection, metadata stripping (docs/03-content.md, `file`). */
export * from "./codec.js";
export * from "./detect.js";
export * from "./stream-aead.js";
export * from "./strip-metadata.js";
