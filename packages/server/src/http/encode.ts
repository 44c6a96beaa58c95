/**
 * Replies that carry message bodies, encoded without the usual copies. `JSON.stringify` of a reply
 * holding base64 strings costs the raw body, its base64 string, the JSON string and the UTF-8
 * Buffer written out: about 5× the body. Here base64url is written in small pieces straight into
 * the output (a WebSocket frame: one Buffer of the final size) or produced piece by piece as the
 * socket takes it (a fetch reply: a stream with a known Content-Length).
 */
import { Readable } from "node:stream";
import { asBuffer } from "../bytes.js";
import { SMALL_REPLY_BYTES } from "../relay/byte-budget.js";
import type { TurnPacer } from "../relay/turn-pacer.js";
import type { StoredMessage } from "../store/store.js";

/** Input bytes per base64 piece: a multiple of 3, so pieces join without padding in between. */
const PIECE = 3 * 16 * 1024;

/** Length of unpadded base64url for `n` bytes. */
export const base64urlLength = (n: number): number => Math.floor(n / 3) * 4 + [0, 2, 3][n % 3]!;

/** The base64url of `bytes`, as Buffers of at most 64 KiB. */
function* base64urlPieces(bytes: Uint8Array): Generator<Buffer> {
  const src = asBuffer(bytes);
  for (let i = 0; i < src.length; i += PIECE) {
    yield Buffer.from(src.subarray(i, i + PIECE).toString("base64url"), "latin1");
  }
}

/**
 * `{"type":"msg","queueId":…,"msgId":…,"body":"<base64url>"}` as one Buffer, built in place; a
 * large body is encoded one piece per turn granted by `pacer` (see TurnPacer).
 */
export async function msgFrame(queueId: string, message: StoredMessage, pacer: TurnPacer): Promise<Buffer> {
  const head = Buffer.from(
    `{"type":"msg","queueId":${JSON.stringify(queueId)},"msgId":${JSON.stringify(message.msgId)},"body":"`,
  );
  const out = Buffer.allocUnsafe(head.length + base64urlLength(message.body.length) + 2);
  const large = message.body.length > SMALL_REPLY_BYTES;
  let at = head.copy(out, 0);
  for (const piece of base64urlPieces(message.body)) {
    at += piece.copy(out, at);
    if (large) await pacer.turn();
  }
  out.write('"}', at, "latin1");
  return out;
}

/**
 * A fetch reply, `{"messages":[{"msgId":…,"body":…},…],"cursorFound":…}`, as a stream that encodes
 * each body only as the client reads it, with its exact length for Content-Length.
 */
export function fetchReply(
  messages: readonly StoredMessage[],
  cursorFound: boolean | undefined,
  pacer: TurnPacer,
): { length: number; stream: Readable } {
  const heads = messages.map((m, i) =>
    Buffer.from(`${i === 0 ? "" : ","}{"msgId":${JSON.stringify(m.msgId)},"body":"`),
  );
  const open = Buffer.from('{"messages":[');
  const close = Buffer.from(
    cursorFound === undefined ? "]}" : `],"cursorFound":${cursorFound ? "true" : "false"}}`,
  );
  const tail = Buffer.from('"}');
  let length = open.length + close.length;
  messages.forEach((m, i) => {
    length += heads[i]!.length + base64urlLength(m.body.length) + tail.length;
  });
  async function* pieces(): AsyncGenerator<Buffer> {
    yield open;
    for (const [i, m] of messages.entries()) {
      yield heads[i]!;
      const large = m.body.length > SMALL_REPLY_BYTES;
      for (const piece of base64urlPieces(m.body)) {
        if (large) await pacer.turn();
        yield piece;
      }
      yield tail;
    }
    yield close;
  }
  return { length, stream: Readable.from(pieces(), { objectMode: false }) };
}
