/** Moved to @parley/protocol (the wire contract); re-exported so core's imports stay as they were. */

export * from "@parley/protocol/blobs";
export * from "@parley/protocol/errors";
export * from "@parley/protocol/ids";
export * from "@parley/protocol/relay";
