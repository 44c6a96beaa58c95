/**
 * HTTP side of the relay protocol (docs/protocol.md): queue creation, sealed-sender deposit, signed
 * recipient commands, one-time invites. Uses the platform's fetch (Node 20 and browsers have it).
 */
import type { z } from "zod";
import type { CryptoProvider } from "../crypto/provider.js";
import { fromBase64Url, toBase64Url } from "../encoding/base64url.js";
import {
  CreateInviteResponse,
  CreateQueueResponse,
  type DeliveredMessage,
  ErrorBody,
  FetchResponse,
  type RecipientCommandName,
} from "../protocol/relay.js";
import { RelayError } from "./errors.js";
import { type QueueCredentials, signCreateQueue, signRecipientCommand } from "./signing.js";

export type FetchLike = typeof globalThis.fetch;

export function normalizeRelayUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new RelayError("bad_url", `not a relay URL: ${url}`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new RelayError("bad_url", `relay URL must be http(s): ${url}`);
  }
  return `${parsed.origin}${parsed.pathname.replace(/\/+$/, "")}`;
}

export class RelayHttpClient {
  readonly baseUrl: string;

  constructor(
    baseUrl: string,
    private readonly crypto: CryptoProvider,
    private readonly fetchImpl: FetchLike = globalThis.fetch.bind(globalThis),
  ) {
    this.baseUrl = normalizeRelayUrl(baseUrl);
  }

  async createQueue(): Promise<QueueCredentials> {
    const keys = await this.crypto.ed25519Generate();
    const body = await signCreateQueue(this.crypto, keys.publicKey, keys.secretKey);
    const res = await this.json("/v1/queues", body, CreateQueueResponse);
    return {
      relay: this.baseUrl,
      queueId: res.queueId,
      sendId: res.sendId,
      recipientKey: toBase64Url(keys.publicKey),
      recipientSecretKey: toBase64Url(keys.secretKey),
    };
  }

  /** Deposits a padded envelope. Carries no sender identity (sealed sender). */
  async send(sendId: string, envelope: Uint8Array): Promise<void> {
    await this.request(`/v1/send/${encodeURIComponent(sendId)}`, envelope);
  }

  async fetchMessages(queue: QueueCredentials): Promise<DeliveredMessage[]> {
    const cmd = await this.sign(queue, "fetch");
    return (await this.json("/v1/queues/command", cmd, FetchResponse)).messages;
  }

  async ack(queue: QueueCredentials, msgId: string): Promise<void> {
    await this.request("/v1/queues/command", await this.sign(queue, "ack", msgId));
  }

  async deleteQueue(queue: QueueCredentials): Promise<void> {
    await this.request("/v1/queues/command", await this.sign(queue, "del"));
  }

  async createInvite(blob: Uint8Array): Promise<string> {
    const res = await this.request("/v1/invites", blob);
    return parse(CreateInviteResponse, await res.json()).inviteId;
  }

  /** Takes the invite off the relay: the first claim gets it, every later one gets `invite_gone`. */
  async claimInvite(inviteId: string): Promise<Uint8Array> {
    const res = await this.request(`/v1/invites/${encodeURIComponent(inviteId)}/claim`, undefined);
    return new Uint8Array(await res.arrayBuffer());
  }

  private sign(queue: QueueCredentials, cmd: RecipientCommandName, msgId?: string) {
    return signRecipientCommand(
      this.crypto,
      fromBase64Url(queue.recipientSecretKey),
      cmd,
      queue.queueId,
      msgId,
    );
  }

  private async json<T>(path: string, body: unknown, schema: z.ZodType<T>): Promise<T> {
    const res = await this.request(path, body);
    return parse(schema, await res.json());
  }

  private async request(path: string, body: unknown): Promise<Response> {
    const binary = body instanceof Uint8Array;
    let res: Response;
    try {
      res = await this.fetchImpl(this.baseUrl + path, {
        method: "POST",
        headers: binary
          ? { "content-type": "application/octet-stream" }
          : body === undefined
            ? {}
            : { "content-type": "application/json" },
        body: binary ? (body as Uint8Array<ArrayBuffer>) : body === undefined ? null : JSON.stringify(body),
      });
    } catch (err) {
      throw new RelayError("network", `cannot reach relay ${this.baseUrl}: ${(err as Error).message}`);
    }
    if (res.ok) return res;
    let detail = { code: "http_" + res.status, error: res.statusText };
    try {
      detail = ErrorBody.parse(await res.json());
    } catch {
      // A non-Parley error page (a proxy, say): keep the HTTP status as the explanation.
    }
    throw new RelayError(detail.code, `relay refused: ${detail.error}`, res.status);
  }
}

function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (!result.success) throw new RelayError("bad_response", "relay sent a malformed response");
  return result.data;
}
