/**
 * What the relay's WebSocket sends, for the benches' raw `ws` clients: JSON text frames (`ok`,
 * `err`) and binary frames for pushed messages (a headed frame: docs/protocol.md).
 */
import { splitHeadedFrame } from "@parley/core";

export interface Frame {
  type: string;
  id?: number | null;
  queueId?: string;
  msgId?: string;
  code?: string;
  /** A pushed message's body. */
  body?: Uint8Array;
}

export function parseFrame(data: unknown, isBinary: boolean): Frame {
  if (!isBinary) return JSON.parse(String(data)) as Frame;
  const split = splitHeadedFrame(data as Uint8Array);
  if (!split) throw new Error("relay sent a binary frame that is not a headed frame");
  // Not checked against the schema (zod, per pushed message): a load generator trusts the relay it
  // measures, and its CPU is taken from the relay's on a machine with few cores.
  const head = split.head as Frame;
  if (head?.type !== "msg") throw new Error("relay sent a binary frame that is not a pushed message");
  return { ...head, body: split.rest };
}
