/** Moved to @parley/protocol (the wire encodings); re-exported so core's imports stay as they were. */
export * from "@parley/protocol/encoding/bytes";
