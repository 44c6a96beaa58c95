/**
 * The relay's blob endpoints (docs/protocol.md, "Blobs"): encrypted file attachments, uploaded in
 * order at offsets and downloaded by range, so both resume after an interruption. No signature, no
 * queue: a blob id is a capability to read, the write capability (from creation) to write.
 */

import {
  BLOB_CAP_HEADER,
  BlobStatus,
  CreateBlobResponse,
  POW_HEADER,
  PutBlobResponse,
  RelayLimits,
  utf8,
} from "@parley/protocol";
import { formatPowStamp, PowError, solvePow } from "../protocol/proof-of-work.js";
import { RelayError } from "./errors.js";
import { type FetchLike, normalizeRelayUrl } from "./relay-http.js";
import { drain, errorOf, parse, readJson } from "./replies.js";

export class BlobHttpClient {
  readonly baseUrl: string;

  constructor(
    baseUrl: string,
    private readonly fetchImpl: FetchLike = globalThis.fetch.bind(globalThis),
  ) {
    this.baseUrl = normalizeRelayUrl(baseUrl);
  }

  async limits(): Promise<RelayLimits> {
    return parse(RelayLimits, await readJson(await this.call("GET", "/v1/limits")));
  }

  /** A new blob of `size` bytes (a padded blob size); solves proof of work if the relay asks. */
  async create(size: number): Promise<CreateBlobResponse> {
    let stamp: string | undefined;
    for (let attempt = 1; ; attempt++) {
      const res = await this.fetch("POST", "/v1/blobs", {
        body: JSON.stringify({ size }),
        headers: { "content-type": "application/json", ...(stamp ? { [POW_HEADER]: stamp } : {}) },
      });
      if (res.ok) return parse(CreateBlobResponse, await readJson(res));
      const detail = await errorOf(res);
      if (detail.code === "pow_required" && detail.pow?.challenge && attempt < 3) {
        try {
          stamp = formatPowStamp(
            await solvePow(detail.pow.challenge, detail.pow.bits, utf8(`parley-relay-v1|blob|${size}`)),
          );
        } catch (e) {
          if (e instanceof PowError) throw new RelayError("pow_failed", e.message, res.status);
          throw e;
        }
        continue;
      }
      throw new RelayError(detail.code, `relay refused: ${detail.error}`, res.status);
    }
  }

  async status(blobId: string): Promise<BlobStatus> {
    return parse(
      BlobStatus,
      await readJson(await this.call("GET", `/v1/blobs/${encodeURIComponent(blobId)}/status`)),
    );
  }

  async put(blobId: string, writeCap: string, offset: number, bytes: Uint8Array): Promise<PutBlobResponse> {
    const res = await this.call("PUT", `/v1/blobs/${encodeURIComponent(blobId)}?offset=${offset}`, {
      body: bytes,
      headers: { "content-type": "application/octet-stream", [BLOB_CAP_HEADER]: writeCap },
    });
    return parse(PutBlobResponse, await readJson(res));
  }

  /** The blob's bytes from `start` on, as they arrive. */
  async *read(blobId: string, start = 0): AsyncGenerator<Uint8Array> {
    const res = await this.call("GET", `/v1/blobs/${encodeURIComponent(blobId)}`, {
      headers: start > 0 ? { range: `bytes=${start}-` } : {},
    });
    if (start > 0 && res.status !== 206) throw new RelayError("bad_response", "relay ignored the range");
    if (!res.body) return;
    const reader = res.body.getReader();
    try {
      for (;;) {
        let next: ReadableStreamReadResult<Uint8Array>;
        try {
          next = await reader.read();
        } catch (err) {
          throw new RelayError("network", `download from ${this.baseUrl} cut off: ${(err as Error).message}`);
        }
        if (next.done) return;
        yield next.value;
      }
    } finally {
      reader.releaseLock();
      await res.body.cancel().catch(() => {});
    }
  }

  async delete(blobId: string, deleteCap: string): Promise<void> {
    await drain(
      await this.call("DELETE", `/v1/blobs/${encodeURIComponent(blobId)}`, {
        headers: { [BLOB_CAP_HEADER]: deleteCap },
      }),
    );
  }

  private async call(
    method: string,
    path: string,
    init: { body?: string | Uint8Array; headers?: Record<string, string> } = {},
  ): Promise<Response> {
    const res = await this.fetch(method, path, init);
    if (res.ok) return res;
    const detail = await errorOf(res);
    throw new RelayError(detail.code, `relay refused: ${detail.error}`, res.status);
  }

  private async fetch(
    method: string,
    path: string,
    init: { body?: string | Uint8Array; headers?: Record<string, string> },
  ): Promise<Response> {
    try {
      return await this.fetchImpl(this.baseUrl + path, {
        method,
        headers: init.headers ?? {},
        body: (init.body ?? null) as BodyInit | null,
      });
    } catch (err) {
      throw new RelayError("network", `cannot reach relay ${this.baseUrl}: ${(err as Error).message}`);
    }
  }
}
