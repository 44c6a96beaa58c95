/**
 * Reads an `application/octet-stream` body (a send's envelope, an invite blob) without holding the
 * event loop.
 *
 * Why not Fastify's `parseAs: "buffer"`: it gathers the chunks and joins them with one
 * Buffer.concat when the body ends — for an 8 MiB envelope one synchronous 8 MiB copy, measured at
 * 25 ms a body on this 2-core machine (10 % of the relay's CPU while a client filled its own queue
 * with 8 MiB messages, the abuse bench's `fill-large`), during which every other client waited.
 * Here the join is done a mebibyte at a time, one piece per turn of the event loop.
 *
 * With `take` (a pool of reusable buffers, see relay/body-pool.ts), a large body whose
 * Content-Length is known is copied chunk by chunk, as it arrives, into a buffer taken from the pool,
 * and nothing is joined at the end: an 8 MiB upload then allocates nothing, where a fresh 8 MiB
 * buffer per body made V8 run an "external memory pressure" collection every few bodies, pausing
 * the loop 20–40 ms each time (abuse bench `fill-large`, --cpu-prof: 15 % of the relay's time in
 * the collector). Whoever gets such a body gives its buffer back once done with it (releaseRawBody).
 *
 * The limits are the route's `bodyLimit`, checked against Content-Length before anything is read
 * and against the bytes as they arrive; a body shorter or longer than its Content-Length is refused.
 * Memory grows with what actually arrived, never with what a header announced.
 */
import type { IncomingMessage } from "node:http";
import { ErrorCodes } from "@parley/protocol";
import { Problem } from "../problem.js";

/** How much is copied per turn of the event loop when a large body is joined. */
const PIECE = 1024 * 1024;

/** A buffer for a large body (`size` bytes) and the way to give it back once it is not used any more. */
export type TakeBuffer = (size: number) => { buffer: Buffer; giveBack: () => void };

/** Bodies read into pooled buffers, with how each goes back (see `releaseRawBody`). */
const pooled = new WeakMap<Buffer, () => void>();

/**
 * Gives a body's pooled buffer back (a no-op for any other body). Only once nothing reads or
 * writes it any more: the buffer will hold someone else's upload next.
 */
export function releaseRawBody(body: unknown): void {
  if (!Buffer.isBuffer(body)) return;
  const giveBack = pooled.get(body);
  pooled.delete(body);
  giveBack?.();
}

export function readRawBody(payload: IncomingMessage, limit: number, take?: TakeBuffer): Promise<Buffer> {
  const declared = payload.headers["content-length"];
  const expected = declared === undefined ? undefined : Number(declared);
  if (expected !== undefined && expected > limit) {
    return Promise.reject(new Problem(ErrorCodes.tooLarge, "request body is too large"));
  }
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    let settled = false;
    // A large body of known length: into a pooled buffer as it arrives — taken only once more than
    // a piece has arrived, not when the header announces the length: 500 connections that each
    // announced 8 MiB and trickled a byte at a time took 4 GiB of (untouched) buffers, and V8's
    // external-memory accounting answered with 0.9 s of collections (abuse bench `slow-bodies`,
    // relay loop stalls of 0.3–1.1 s).
    const poolable = take && expected !== undefined && Number.isSafeInteger(expected) && expected > PIECE;
    let into: ReturnType<TakeBuffer> | undefined;
    const fail = (problem: Problem) => {
      if (settled) return;
      settled = true;
      payload.removeListener("data", onData);
      into?.giveBack();
      reject(problem);
    };
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received > limit || (expected !== undefined && received > expected)) {
        fail(
          received > limit
            ? new Problem(ErrorCodes.tooLarge, "request body is too large")
            : new Problem(ErrorCodes.badRequest, "content length does not match the body"),
        );
        return;
      }
      if (into) chunk.copy(into.buffer, received - chunk.length);
      else if (poolable && received > PIECE) {
        into = take(expected);
        let at = 0;
        for (const c of chunks) at += c.copy(into.buffer, at);
        chunk.copy(into.buffer, at);
        chunks.length = 0;
      } else chunks.push(chunk);
    };
    payload.on("data", onData);
    payload.once("error", () => fail(new Problem(ErrorCodes.badRequest, "the request body was cut off")));
    payload.once("aborted", () => fail(new Problem(ErrorCodes.badRequest, "the request body was cut off")));
    payload.once("end", () => {
      if (settled) return;
      if (expected !== undefined && received !== expected) {
        fail(new Problem(ErrorCodes.badRequest, "content length does not match the body"));
        return;
      }
      settled = true;
      if (into) {
        pooled.set(into.buffer, into.giveBack);
        resolve(into.buffer);
        return;
      }
      join(chunks, received).then(resolve, reject);
    });
  });
}

/** The chunks as one Buffer: at once when small, else a piece per event-loop turn. */
async function join(chunks: Buffer[], total: number): Promise<Buffer> {
  if (total <= PIECE) return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  let sinceYield = 0;
  for (const chunk of chunks) {
    chunk.copy(out, at);
    at += chunk.length;
    sinceYield += chunk.length;
    if (sinceYield >= PIECE) {
      sinceYield = 0;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
  return out;
}
