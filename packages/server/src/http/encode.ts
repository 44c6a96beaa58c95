/**
 * Replies that carry message bodies: headed frames (docs/protocol.md, "Bodies on the wire"), the
 * bodies as the relay holds them, never base64. Encoding 8 MiB bodies as base64url built ~11 MiB of
 * strings and buffers per body for the collector to reclaim; with twelve clients fetching in a loop
 * the relay's one thread spent a third of its time in garbage collection, in pauses of up to 100 ms
 * that every other client waited out (issue 7, abuse bench `big-fetches`).
 */

import { Readable } from "node:stream";
import { headedFramePrefix, type PushHead } from "@parley/protocol";
import { asBuffer } from "../bytes.js";
import { SMALL_REPLY_BYTES } from "../relay/byte-budget.js";
import type { TurnPacer } from "../relay/turn-pacer.js";
import type { StoredMessage } from "../store/store.js";

/** Large bodies go to the socket in slices of this size, one slice per turn granted by the pacer. */
const SLICE = 1024 * 1024;

/**
 * A pushed message, `{type:"msg",queueId,msgId}` then the body, as one binary WebSocket frame (a
 * WebSocket message is one buffer; the copy of the body into it is the only one the relay makes).
 */
export function msgFrame(queueId: string, message: StoredMessage): Buffer {
  const head: PushHead = { type: "msg", queueId, msgId: message.msgId };
  return Buffer.concat([headedFramePrefix(head), message.body]);
}

/**
 * A fetch reply (FETCH_BINARY_TYPE): the head lists each message's id and size, then the bodies
 * follow, with the exact length for Content-Length. Nothing is encoded or copied: the stream hands
 * out views of the bodies, a large one in slices, each after a turn of `pacer`, so that twelve
 * clients fetching 8 MiB messages at once still leave the loop to everyone else.
 */
export function fetchReply(
  messages: readonly StoredMessage[],
  cursorFound: boolean | undefined,
  pacer: TurnPacer,
): { length: number; stream: Readable } {
  const prefix = Buffer.from(
    headedFramePrefix({
      messages: messages.map((m) => ({ msgId: m.msgId, size: m.body.length })),
      ...(cursorFound === undefined ? {} : { cursorFound }),
    }),
  );
  const length = prefix.length + messages.reduce((n, m) => n + m.body.length, 0);
  async function* pieces(): AsyncGenerator<Buffer> {
    yield prefix;
    for (const m of messages) {
      const body = asBuffer(m.body);
      if (body.length <= SMALL_REPLY_BYTES) {
        if (body.length > 0) yield body;
        continue;
      }
      for (let at = 0; at < body.length; at += SLICE) {
        await pacer.turn();
        yield body.subarray(at, at + SLICE);
      }
    }
  }
  return { length, stream: Readable.from(pieces(), { objectMode: false }) };
}
