/** Moved to @parley/protocol (the wire contract); re-exported so core's imports stay as they were. */
export * from "@parley/protocol/padding";
