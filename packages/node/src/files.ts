/**
 * Files on Node for the engine's file operations: a file on disk as a FileSource (read in pieces,
 * never whole), a download target that writes the plaintext to a hidden file beside the output as it
 * is decrypted (a killed download resumes from it) and moves it into place only once complete and
 * verified, and node:crypto's SHA-256.
 */
import { createCipheriv, createDecipheriv, createHash, type Hash } from "node:crypto";
import { constants } from "node:fs";
import { open, rename, rm, stat } from "node:fs/promises";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { basename, dirname, join, resolve } from "node:path";
import v8 from "node:v8";
import vm from "node:vm";
import type { AesGcm, DownloadTarget, FileAssessment, FileSource, Hasher } from "@parley/core";

/** Exactly `length` bytes of an open file from `offset` (a short read is retried; the end is `ended`). */
async function readExactly(
  file: Awaited<ReturnType<typeof open>>,
  offset: number,
  length: number,
  ended: string,
): Promise<Uint8Array> {
  const out = Buffer.allocUnsafe(length);
  let at = 0;
  while (at < length) {
    const { bytesRead } = await file.read(out, at, length - at, offset + at);
    if (bytesRead === 0) throw new Error(ended);
    at += bytesRead;
  }
  return new Uint8Array(out.buffer, out.byteOffset, length);
}

/** A file on disk, and what identifies it for resuming (path, size, modification time). */
export async function fileSource(
  path: string,
): Promise<{ source: FileSource; sourceId: string; close(): Promise<void> }> {
  const absolute = resolve(path);
  const handle = await open(absolute, constants.O_RDONLY);
  const info = await handle.stat();
  if (!info.isFile()) {
    await handle.close();
    throw new Error(`${path} is not a file`);
  }
  const source: FileSource = {
    size: info.size,
    read: (offset, length) =>
      readExactly(handle, offset, length, `${path} got shorter while it was being sent`),
  };
  return {
    source,
    sourceId: `${absolute}|${info.size}|${Math.floor(info.mtimeMs)}|${info.ino}`,
    close: () => handle.close(),
  };
}

function nodeHasher(hash: Hash = createHash("sha256")): Hasher {
  return {
    update: (bytes) => void hash.update(bytes),
    digest: () => new Uint8Array(hash.digest()),
    copy: () => nodeHasher(hash.copy()),
  };
}

/** SHA-256 from node:crypto (several times faster than JavaScript's for large files). */
export const nodeSha256 = (): Hasher => nodeHasher();

/**
 * Keeps a transfer's memory flat: call it with the bytes moved so far. Every chunk leaves garbage
 * outside V8's heap (buffers read, sealed, sent, received), which V8 frees only when a collection
 * finds their small JS handles dead, and on its own it waits until tens of megabytes pile up (a
 * 50 MB upload peaked 30–40 MB above an idle CLI, measured). So every `minorEvery` bytes a young
 * generation collection (about a millisecond) frees the buffers that died young, and a full one
 * runs only when buffers outside the heap grew `fullAbove` bytes past where they were at the
 * start anyway (those that lived through an upload request's round trip). A full collection every
 * 4 MB, as before, kept memory as flat but cost 40 % of the transfer's time (bench: --cpu-prof).
 */
export function keepMemoryFlat(
  options: { minorEvery?: number; fullAbove?: number } = {},
): (moved: number) => void {
  const minorEvery = options.minorEvery ?? 2 * 1024 * 1024;
  const fullAbove = options.fullAbove ?? 12 * 1024 * 1024;
  let gc: ((o?: { type: "minor" | "major" }) => void) | undefined;
  try {
    // V8 frees the memory of dead ArrayBuffers on a background thread after a collection; while a
    // download moves 140 MB/s its buffers die faster than that thread frees them, and the freed-
    // but-not-yet-returned memory grew by 30 MiB (a 200 MB get-file peaked at 119–122 MiB in 3 runs
    // of 6, bench/src/files.ts, memory sampled every 10 ms: arrayBuffers climbing until the last
    // byte, then gone at once). Swept within each collection instead: 94–97 MiB in 5 runs of 5.
    v8.setFlagsFromString("--no-concurrent-array-buffer-sweeping");
    v8.setFlagsFromString("--expose-gc");
    gc = vm.runInNewContext("gc") as typeof gc;
  } catch {
    return () => {};
  }
  const base = process.memoryUsage().arrayBuffers;
  let last = 0;
  return (moved) => {
    if (moved - last < minorEvery && moved >= last) return;
    last = moved;
    gc?.({ type: "minor" });
    if (process.memoryUsage().arrayBuffers - base > fullAbove) gc?.({ type: "major" });
  };
}

/**
 * The relay's HTTP on Node (ClientEnvironment.fetch): node:http, not the global fetch (undici).
 * Undici cost the CLI a lot of memory for what it does here: loading it adds about 10 MiB, its
 * first request compiles its HTTP parser (WebAssembly) on background threads, a transient 20 MiB
 * more that every command that talks to the relay peaked at; and given a byte body it sends a copy
 * that it keeps alive well past the request, through full collections (about 4 MiB per 4 MiB blob
 * upload, measured, until tens of megabytes pile up). Here a body is written as it is, with its
 * Content-Length, and a response body is the response stream itself (backpressure included).
 * Only what the relay clients use of fetch is there: method, headers, a string or byte body, a
 * signal; ok, status, statusText, headers, json(), text(), arrayBuffer(), body.
 */
export const nodeFetch = ((input: string | URL, init: RequestInit = {}): Promise<Response> =>
  fetchOnce(new URL(String(input)), init, true)) as typeof globalThis.fetch;

/**
 * Methods whose request can be sent again without changing what the relay holds. A request of
 * these that fails on a kept-alive connection before any answer is sent once more on a new one: the
 * relay closes a connection idle for its keep-alive time (5 s) while Node's agent may already be
 * reusing it, and the request then dies with "socket hang up" though the relay never saw it (a
 * feed bench's photo post failed on `GET /v1/blobs/limits` that way). A POST is not sent again
 * here: its error reaches the relay client, which knows its commands are safe to repeat and sends
 * once more itself (RelayHttpClient `post`, closedUnderRequest).
 */
/** Bytes of a response body read from the socket ahead of its reader. */
const BODY_AHEAD_BYTES = 64 * 1024;

/**
 * A response body as a web stream, its pieces handed over as they came off the socket. Node's own
 * Readable.toWeb copies every piece (so that a reader may transfer it): a second 64 KiB of garbage
 * per 64 KiB received, where our readers copy what they keep anyway (rechunk).
 */
function webStreamOf(res: IncomingMessage): ReadableStream<Uint8Array> {
  res.pause();
  // Ended, failed or cancelled: the controller takes nothing more (it would throw).
  let settled = false;
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        const settle = (end: () => void) => {
          if (settled) return;
          settled = true;
          end();
        };
        res.on("data", (piece: Buffer) => {
          if (settled) return;
          controller.enqueue(new Uint8Array(piece.buffer, piece.byteOffset, piece.length));
          if ((controller.desiredSize ?? 0) <= 0) res.pause();
        });
        res.once("end", () => settle(() => controller.close()));
        res.once("error", (e) => settle(() => controller.error(e)));
        res.once("close", () => {
          if (!res.complete) settle(() => controller.error(new Error("the response was cut off")));
        });
      },
      pull() {
        res.resume();
      },
      cancel(reason) {
        settled = true;
        res.destroy(reason instanceof Error ? reason : undefined);
      },
    },
    new ByteLengthQueuingStrategy({ highWaterMark: BODY_AHEAD_BYTES }),
  );
}

const RESENDABLE = new Set(["GET", "HEAD", "PUT", "DELETE", "OPTIONS"]);

function fetchOnce(url: URL, init: RequestInit, mayResend: boolean): Promise<Response> {
  const signal = init.signal ?? undefined;
  const method = (init.method ?? "GET").toUpperCase();
  return new Promise<Response>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const request = (url.protocol === "https:" ? httpsRequest : httpRequest)(url, {
      method,
      headers: init.headers as Record<string, string> | undefined,
    });
    // Aborted before or while the answer arrives: the request and its response end with the reason.
    const abort = () => request.destroy(signal?.reason as Error);
    signal?.addEventListener("abort", abort, { once: true });
    let answered = false;
    request.once("error", (e: NodeJS.ErrnoException) => {
      signal?.removeEventListener("abort", abort);
      const closedUnderUs =
        !answered &&
        request.reusedSocket &&
        !signal?.aborted &&
        (e.code === "ECONNRESET" || e.code === "EPIPE" || e.message === "socket hang up");
      if (closedUnderUs && mayResend && RESENDABLE.has(method)) resolve(fetchOnce(url, init, false));
      else reject(e);
    });
    request.once("response", (res) => {
      answered = true;
      res.once("end", () => signal?.removeEventListener("abort", abort));
      res.once("close", () => signal?.removeEventListener("abort", abort));
      const status = res.statusCode ?? 0;
      let body: ReadableStream<Uint8Array> | undefined;
      const bytes = async () => {
        const chunks: Buffer[] = [];
        for await (const c of res) chunks.push(c as Buffer);
        return Buffer.concat(chunks);
      };
      const text = async () => (await bytes()).toString("utf8");
      const headers = new Headers();
      for (const [name, value] of Object.entries(res.headers)) {
        if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(", ") : value);
      }
      resolve({
        ok: status >= 200 && status < 300,
        status,
        statusText: res.statusMessage ?? "",
        headers,
        text,
        json: async () => JSON.parse(await text()) as unknown,
        arrayBuffer: async () => {
          const b = await bytes();
          return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
        },
        get body() {
          body ??= webStreamOf(res);
          return body;
        },
      } as unknown as Response);
    });
    const payload = init.body as string | Uint8Array | null | undefined;
    if (payload === null || payload === undefined) request.end();
    else {
      request.setHeader(
        "content-length",
        typeof payload === "string" ? Buffer.byteLength(payload) : payload.length,
      );
      request.end(payload);
    }
  });
}

const TAG = 16;
/** Bytes of a download's writes that may be queued behind it (FileDownloadTarget). */
const WRITES_IN_FLIGHT = 2 * 1024 * 1024;

/**
 * AES-256-GCM from node:crypto, on the calling thread: each chunk sealed into one buffer (its
 * ciphertext, then its tag) with no copy to a worker thread and no promise, unlike WebCrypto.
 */
export const nodeAesGcm: AesGcm = {
  seal(key, nonce, aad, plain) {
    const c = createCipheriv("aes-256-gcm", key, nonce, { authTagLength: TAG });
    c.setAAD(aad);
    const out = Buffer.allocUnsafe(plain.length + TAG);
    const n = c.update(plain).copy(out, 0);
    const rest = c.final();
    rest.copy(out, n);
    c.getAuthTag().copy(out, n + rest.length);
    return new Uint8Array(out.buffer, out.byteOffset, out.length);
  },
  open(key, nonce, aad, sealed) {
    const d = createDecipheriv("aes-256-gcm", key, nonce, { authTagLength: TAG });
    d.setAAD(aad);
    d.setAuthTag(sealed.subarray(sealed.length - TAG));
    const plain = d.update(sealed.subarray(0, sealed.length - TAG));
    const rest = d.final(); // throws on a wrong tag
    const out = rest.length === 0 ? plain : Buffer.concat([plain, rest]);
    return new Uint8Array(out.buffer, out.byteOffset, out.length);
  },
};

/**
 * A download into `outPath`: the plaintext written to a hidden `.<name>.parley-part` beside it as
 * it is decrypted, and renamed to `outPath` by `finish` once complete and checked. A cut download
 * leaves the part for the next attempt at the same path, which resumes from it. `beforeSave` sees
 * what the device found (warnings are shown before the file lands).
 */
export class FileDownloadTarget implements DownloadTarget {
  private part: Awaited<ReturnType<typeof open>> | undefined;
  /** Where the next write goes in the part. */
  private position = 0;
  /**
   * Writes run behind the download, in order, up to WRITES_IN_FLIGHT bytes: awaiting each write
   * before reading on left the socket unread while the disk worked (a third of a 200 MB download's
   * time was the process idle). The first failure is thrown by the next call, and by `finish` at
   * the latest, so nothing is saved after a lost write.
   */
  /** The queued writes, oldest first: each leaves the front when it is done. */
  private queued: Promise<void>[] = [];
  private writing: Promise<void> = Promise.resolve();
  private inFlight = 0;
  private failure: unknown;
  readonly partPath: string;

  constructor(
    readonly outPath: string,
    private readonly beforeSave: (assessment: FileAssessment) => void | Promise<void> = () => {},
  ) {
    this.partPath = join(dirname(outPath), `.${basename(outPath)}.parley-part`);
  }

  async heldPlain(): Promise<number> {
    await this.settle();
    try {
      return (await stat(this.partPath)).size;
    } catch {
      return 0;
    }
  }

  async readPlain(offset: number, length: number): Promise<Uint8Array> {
    return readExactly(await this.open(), offset, length, `${this.partPath} is shorter than it was`);
  }

  async keepPlain(length: number): Promise<void> {
    await this.settle();
    const file = await this.open();
    await file.truncate(length);
    this.position = length;
  }

  async writePlain(bytes: Uint8Array): Promise<void> {
    const at = this.position;
    this.position += bytes.length;
    await this.later(bytes.length, async () => {
      const file = await this.open();
      let done = 0;
      while (done < bytes.length)
        done += (await file.write(bytes, done, bytes.length - done, at + done)).bytesWritten;
    });
  }

  async finish(assessment: FileAssessment): Promise<void> {
    await this.settle();
    const file = await this.open();
    // On disk before it gets its name: a crash never leaves a half file under the real name.
    await file.sync();
    await this.close();
    await this.beforeSave(assessment);
    await rename(this.partPath, this.outPath);
  }

  async pause(): Promise<void> {
    try {
      await this.settle();
      await this.part?.sync();
    } finally {
      await this.close();
    }
  }

  async discardPlain(): Promise<void> {
    await this.settle().catch(() => {});
    this.failure = undefined;
    await this.close();
    await rm(this.partPath, { force: true });
  }

  private async open(): Promise<Awaited<ReturnType<typeof open>>> {
    this.part ??= await open(this.partPath, constants.O_RDWR | constants.O_CREAT, 0o600);
    return this.part;
  }

  private async close(): Promise<void> {
    const file = this.part;
    this.part = undefined;
    await file?.close().catch(() => {});
  }

  /** Queues `write` behind the others; waits while more than WRITES_IN_FLIGHT bytes are queued. */
  private async later(bytes: number, write: () => Promise<void>): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    this.inFlight += bytes;
    this.writing = this.writing
      .then(write)
      .catch((e) => {
        this.failure ??= e;
      })
      .finally(() => {
        this.inFlight -= bytes;
        this.queued.shift();
      });
    this.queued.push(this.writing);
    while (this.inFlight > WRITES_IN_FLIGHT && this.queued.length > 0) await this.queued[0];
    if (this.failure !== undefined) throw this.failure;
  }

  /** Every queued write done; the first failure thrown. */
  private async settle(): Promise<void> {
    await this.writing;
    if (this.failure !== undefined) throw this.failure;
  }
}
