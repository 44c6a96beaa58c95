/**
 * HTTP side of the relay protocol (docs/protocol.md): queue creation, sealed-sender deposit, signed
 * recipient commands, one-time invites. Uses the platform's fetch (Node 20 and browsers have it).
 */
import { ed25519 } from "@noble/curves/ed25519.js";
import type { CryptoProvider } from "../crypto/provider.js";
import { fromBase64Url, toBase64Url } from "../encoding/base64url.js";
import {
  formatPowStamp,
  POW_HEADER,
  PowError,
  type SolveOptions,
  solvePow,
} from "../protocol/proof-of-work.js";
import {
  ACK_BATCH_LIMIT,
  AckResponse,
  CreateInviteResponse,
  CreateQueueResponse,
  createQueueBytes,
  FETCH_BINARY_TYPE,
  FetchHead,
  FetchResponse,
  PROTOCOL_VERSION,
  type RecipientCommandName,
  rendezvousIds,
  SendBatchResponse,
  SendResponse,
  sendBatchFrame,
  splitHeadedFrame,
} from "../protocol/relay.js";
import { RelayError } from "./errors.js";
import { drain, errorOf, parse, readJson } from "./replies.js";
import { type QueueCredentials, signAckBatch, signCreateQueue, signRecipientCommand } from "./signing.js";

export type FetchLike = typeof globalThis.fetch;

/** One message a fetch returned: its id on the relay and its body (padded ciphertext). */
export interface FetchedMessage {
  msgId: string;
  body: Uint8Array;
}

/** What one fetch returns: the messages, oldest first, plus whether the cursor was still held. */
export type FetchedMessages = FetchedMessage[] & { cursorFound: boolean };

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

export interface RelayHttpOptions {
  /**
   * Other nodes of the same relay (a cluster behind several URLs). A request that cannot reach a
   * node, or that it answers 502, 503 or 504, is sent to the next; the client stays with the node
   * that answered. Queue credentials keep naming the first URL.
   */
  alternates?: readonly string[];
  /**
   * Limits on solving a relay's proof-of-work challenge (queue and invite creation on a relay run
   * with `--pow-bits`): by default at most 32 bits and 60 s, then RelayError `pow_failed`.
   */
  pow?: Pick<SolveOptions, "timeoutMs" | "maxBits">;
  /**
   * Awaited before every request leaves (but sends with `synced: false`): the client makes its
   * local writes durable here (the store's `durable`), so nothing reaches the relay that a power cut
   * could take back on this device — a sealed message whose ratchet step, or an acknowledgement
   * whose message, is lost.
   */
  beforeRequest?: () => Promise<void>;
}

export interface SendOptions {
  /**
   * Default true: the request waits for `beforeRequest` (the store's sync to disk). False for
   * messages sealed under a reservation already on disk (client/sending-ahead.ts).
   */
  synced?: boolean;
}

/** Times a request is sent again with a fresh stamp after `pow_required` (a challenge can expire). */
const POW_ATTEMPTS = 3;

/** HTTP statuses after which the same request goes to another node of the relay. */
const FAILOVER_STATUSES = new Set([502, 503, 504]);

export class RelayHttpClient {
  readonly baseUrl: string;
  /** Every node of this relay, the base URL first; `current` is the one in use. */
  private readonly nodes: string[];
  private current = 0;
  /** The relay refused a batched ack as malformed (it predates them): acks go one by one. */
  private singleAcks = false;

  constructor(
    baseUrl: string,
    private readonly crypto: CryptoProvider,
    private readonly fetchImpl: FetchLike = globalThis.fetch.bind(globalThis),
    private readonly options: RelayHttpOptions = {},
  ) {
    this.baseUrl = normalizeRelayUrl(baseUrl);
    this.nodes = [this.baseUrl, ...(options.alternates ?? []).map(normalizeRelayUrl)].filter(
      (u, i, all) => all.indexOf(u) === i,
    );
  }

  /**
   * Creates a queue with a fresh recipient key. `broadcast: true` makes a group's broadcast queue
   * (docs/protocol.md): its credentials are then shared with every member, nobody acknowledges, and
   * readers keep a cursor. The returned credentials carry `broadcast: true` for such a queue.
   */
  /**
   * `rendezvousSeed`: a broadcast queue whose recipient key pair is this 32-byte seed's and whose ids
   * follow from the key (see rendezvousIds): everyone with the seed gets the same queue.
   */
  async createQueue(
    options: { broadcast?: boolean; rendezvousSeed?: Uint8Array } = {},
  ): Promise<QueueCredentials> {
    const rendezvous = options.rendezvousSeed !== undefined;
    const broadcast = options.broadcast === true || rendezvous;
    const keys = options.rendezvousSeed
      ? { secretKey: options.rendezvousSeed, publicKey: ed25519.getPublicKey(options.rendezvousSeed) }
      : await this.crypto.ed25519Generate();
    const body = await signCreateQueue(this.crypto, keys.publicKey, keys.secretKey, {
      broadcast,
      rendezvous,
    });
    // On a relay that asks for proof of work, the stamp binds these signed bytes.
    const res = parse(
      CreateQueueResponse,
      await readJson(await this.request("/v1/queues", body, createQueueBytes(body))),
    );
    if (broadcast !== (res.broadcast === true)) {
      // A relay that ignored the mode would have refused the signature; this is a broken relay.
      throw new RelayError("bad_response", "relay created a queue of the wrong mode");
    }
    if (rendezvous) {
      const expected = rendezvousIds(toBase64Url(keys.publicKey));
      if (res.queueId !== expected.queueId || res.sendId !== expected.sendId) {
        throw new RelayError("bad_response", "relay answered a rendezvous queue with other ids");
      }
    }
    const credentials: QueueCredentials = {
      relay: this.baseUrl,
      queueId: res.queueId,
      sendId: res.sendId,
      recipientKey: toBase64Url(keys.publicKey),
      recipientSecretKey: toBase64Url(keys.secretKey),
    };
    if (broadcast) credentials.broadcast = true;
    return credentials;
  }

  /**
   * Deposits a padded envelope. Carries no sender identity (sealed sender). Returns the relay's
   * msgId. `synced: false`: it need not wait for `beforeRequest` (what it depends on is on disk).
   */
  async send(sendId: string, envelope: Uint8Array, options: SendOptions = {}): Promise<string> {
    const res = await this.request(
      `/v1/send/${encodeURIComponent(sendId)}`,
      envelope,
      undefined,
      undefined,
      options,
    );
    return parse(SendResponse, await readJson(res)).msgId;
  }

  /**
   * Deposits several envelopes in one request (`POST /v1/send-batch`), in order. Returns the msgIds
   * of those stored (a prefix) and, when one was refused, that refusal as the RelayError a single
   * send would have thrown; nothing after it was tried. A relay without batch sends (`not_found`)
   * gets them one request each, the same way. Throws only when the request itself fails.
   */
  async sendBatch(
    messages: readonly { sendId: string; body: Uint8Array }[],
    options: SendOptions = {},
  ): Promise<{ msgIds: string[]; refused?: RelayError }> {
    if (messages.length === 1 || this.noBatches) return this.sendEach(messages, options);
    let res: Response;
    try {
      res = await this.request("/v1/send-batch", sendBatchFrame(messages), undefined, undefined, options);
    } catch (e) {
      if (!(e instanceof RelayError)) throw e;
      // A batch larger than this relay takes in one request: each on its own, the same way.
      if (e.code === "too_large") return this.sendEach(messages, options);
      if (e.code !== "not_found") throw e;
      this.noBatches = true;
      return this.sendEach(messages, options);
    }
    const reply = parse(SendBatchResponse, await readJson(res));
    if (reply.msgIds.length > messages.length || (reply.refused && reply.msgIds.length === messages.length))
      throw new RelayError("bad_response", "relay answered a batch send with more than it was sent");
    if (!reply.refused && reply.msgIds.length < messages.length)
      throw new RelayError("bad_response", "relay left part of a batch send unanswered");
    const { refused } = reply;
    return refused
      ? {
          msgIds: reply.msgIds,
          refused: new RelayError(refused.code, `relay refused: ${refused.error}`, refused.status),
        }
      : { msgIds: reply.msgIds };
  }

  /** A relay that answered `not_found` to a batch send: one request per envelope from then on. */
  private noBatches = false;

  private async sendEach(
    messages: readonly { sendId: string; body: Uint8Array }[],
    options: SendOptions,
  ): Promise<{ msgIds: string[]; refused?: RelayError }> {
    const msgIds: string[] = [];
    for (const m of messages) {
      try {
        msgIds.push(await this.send(m.sendId, m.body, options));
      } catch (e) {
        // A refusal (or the relay gone after some were stored) ends the batch there.
        if (!(e instanceof RelayError) || (e.status === undefined && msgIds.length === 0)) throw e;
        return { msgIds, refused: e };
      }
    }
    return { msgIds };
  }

  /**
   * Whether a Parley relay answers at this address (`GET /v1/health` naming our protocol):
   * "unreachable" (nothing answers, or not in time) or "not_a_relay" (something else answers: a
   * mistyped port, a web site).
   */
  async probe(): Promise<"ok" | "unreachable" | "not_a_relay"> {
    let res: Response;
    try {
      res = await this.fetchImpl(`${this.baseUrl}/v1/health`, { signal: AbortSignal.timeout(10_000) });
    } catch {
      return "unreachable";
    }
    try {
      const body = (await res.json()) as { protocol?: unknown };
      return res.ok && body.protocol === PROTOCOL_VERSION ? "ok" : "not_a_relay";
    } catch {
      return "not_a_relay";
    }
  }

  /**
   * The oldest pending messages, at most FETCH_LIMIT and about the relay's byte cap per call (at
   * least one); call again for more. With `after` (a msgId: a broadcast queue's cursor), only the
   * messages after that one. The array also says whether the relay still held `after`: when
   * `cursorFound` is false it returned everything it holds, and messages between the cursor and the
   * oldest of those may have expired unread. Without `after`, `cursorFound` is true.
   */
  async fetchMessages(queue: QueueCredentials, options: { after?: string } = {}): Promise<FetchedMessages> {
    const cmd = await this.sign(queue, "fetch", options.after);
    // A fetch changes nothing at the relay: it depends on no local write being on disk.
    const res = await this.request("/v1/queues/command", cmd, undefined, FETCH_BINARY_TYPE, {
      synced: false,
    });
    const { messages, cursorFound } =
      res.headers.get("content-type")?.split(";")[0]?.trim() === FETCH_BINARY_TYPE
        ? readBinaryFetch(new Uint8Array(await res.arrayBuffer()))
        : fromJsonFetch(parse(FetchResponse, await readJson(res)));
    if (options.after !== undefined && cursorFound === undefined) {
      throw new RelayError("bad_response", "relay ignored the fetch cursor");
    }
    return Object.assign(messages, { cursorFound: cursorFound ?? true });
  }

  /** Unicast queues only: a relay refuses `ack` on a broadcast queue (`bad_request`). */
  async ack(queue: QueueCredentials, msgId: string): Promise<void> {
    await drain(await this.request("/v1/queues/command", await this.sign(queue, "ack", msgId)));
  }

  /**
   * Several messages of one unicast queue acknowledged with one signature per ACK_BATCH_LIMIT ids
   * (one request each). Returns the ids the relay no longer held (acknowledged before, expired):
   * no error, the caller wanted them gone.
   */
  async ackMany(queue: QueueCredentials, msgIds: readonly string[]): Promise<string[]> {
    const unknown: string[] = [];
    for (let i = 0; i < msgIds.length; i += ACK_BATCH_LIMIT) {
      const ids = msgIds.slice(i, i + ACK_BATCH_LIMIT);
      if (this.singleAcks) {
        unknown.push(...(await this.ackEach(queue, ids)));
        continue;
      }
      const cmd = await signAckBatch(
        this.crypto,
        fromBase64Url(queue.recipientSecretKey),
        queue.queueId,
        ids,
      );
      let res: Response;
      try {
        res = await this.request("/v1/queues/command", cmd);
      } catch (e) {
        // A relay from before batched acks reads no `msgIds` and finds the ack without a message.
        if (!(e instanceof RelayError && e.code === "bad_request" && ids.length > 0)) throw e;
        this.singleAcks = true;
        unknown.push(...(await this.ackEach(queue, ids)));
        continue;
      }
      unknown.push(...(parse(AckResponse, await readJson(res)).unknown ?? []));
    }
    return unknown;
  }

  /** One signed ack per message (a relay from before batched acks); returns those already gone. */
  private async ackEach(queue: QueueCredentials, msgIds: readonly string[]): Promise<string[]> {
    const gone: string[] = [];
    for (const msgId of msgIds) {
      try {
        await this.ack(queue, msgId);
      } catch (e) {
        if (!(e instanceof RelayError && e.code === "unknown_message")) throw e;
        gone.push(msgId);
      }
    }
    return gone;
  }

  async deleteQueue(queue: QueueCredentials): Promise<void> {
    await drain(await this.request("/v1/queues/command", await this.sign(queue, "del")));
  }

  async createInvite(blob: Uint8Array): Promise<string> {
    const res = await this.request("/v1/invites", blob, blob);
    return parse(CreateInviteResponse, await readJson(res)).inviteId;
  }

  /** Reads the invite and leaves it on the relay (to check the link's key before claiming). */
  async peekInvite(inviteId: string): Promise<Uint8Array> {
    const res = await this.request(`/v1/invites/${encodeURIComponent(inviteId)}/peek`, undefined);
    return new Uint8Array(await res.arrayBuffer());
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

  /**
   * POSTs `body` (bytes as octet-stream, else JSON). With `powBytes` (what a proof-of-work stamp
   * binds), a `pow_required` refusal is answered by solving the relay's challenge and sending the
   * request again with the stamp, transparently.
   */
  private async request(
    path: string,
    body: unknown,
    powBytes?: Uint8Array,
    accept?: string,
    options: SendOptions = {},
  ): Promise<Response> {
    let stamp: string | undefined;
    for (let attempt = 1; ; attempt++) {
      const res = await this.post(path, body, stamp, accept, options.synced !== false);
      if (res.ok) return res;
      const detail = await errorOf(res);
      if (detail.code === "pow_required" && powBytes && detail.pow?.challenge && attempt < POW_ATTEMPTS) {
        try {
          stamp = formatPowStamp(
            await solvePow(detail.pow.challenge, detail.pow.bits, powBytes, this.options.pow),
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

  private async post(
    path: string,
    body: unknown,
    stamp: string | undefined,
    accept: string | undefined,
    synced: boolean,
  ): Promise<Response> {
    const binary = body instanceof Uint8Array;
    const headers: Record<string, string> = binary
      ? { "content-type": "application/octet-stream" }
      : body === undefined
        ? {}
        : { "content-type": "application/json" };
    if (stamp !== undefined) headers[POW_HEADER] = stamp;
    if (accept !== undefined) headers["accept"] = accept;
    if (synced) await this.options.beforeRequest?.();
    // Each node at most once, starting with the one that answered last. (A send whose node died
    // after storing it may so be stored twice: the receiving client drops the second copy by its
    // digest, inbox/receive.ts.)
    let failure: unknown;
    let again = false;
    for (let tried = 0; tried < this.nodes.length; tried++) {
      const node = this.nodes[this.current]!;
      try {
        const res = await this.fetchImpl(node + path, {
          method: "POST",
          headers,
          body: binary ? (body as Uint8Array<ArrayBuffer>) : body === undefined ? null : JSON.stringify(body),
          // A node that takes the connection and never answers must not hold a send (and the
          // profile lock) for ever: it counts as unreachable, and the outbox tries again later.
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });
        if (!FAILOVER_STATUSES.has(res.status) || tried === this.nodes.length - 1) return res;
        failure = new Error(`HTTP ${res.status}`);
        await res.body?.cancel().catch(() => {});
      } catch (err) {
        failure = err;
        // The connection failed under the request (not its deadline): a kept-alive connection the
        // node closed as this one reused it — the relay closes one idle for 5 s, and a client whose
        // event loop was busy may write on it just after. Once more at once, on a new connection,
        // before the next node: every command is safe to repeat, as the failover above already
        // assumes (a send stored twice is dropped by its digest at the receiver).
        if (!again && closedUnderRequest(err)) {
          again = true;
          tried--;
          continue;
        }
      }
      this.current = (this.current + 1) % this.nodes.length;
    }
    const where = this.nodes.length > 1 ? `any node of relay ${this.baseUrl}` : `relay ${this.baseUrl}`;
    throw new RelayError("network", `cannot reach ${where}: ${(failure as Error).message}`);
  }
}

/**
 * A connection that broke under the request (reset, or closed by the other side), as undici's
 * fetch (its `cause`) and node:http (the error itself) say it; not a refused connection, a timeout
 * or a browser's bare "Failed to fetch" (a browser sends again by itself on a connection it reused).
 */
function closedUnderRequest(err: unknown): boolean {
  for (const e of [err, (err as { cause?: unknown } | null)?.cause]) {
    const { code, message } = (e ?? {}) as { code?: unknown; message?: unknown };
    if (code === "ECONNRESET" || code === "EPIPE" || code === "UND_ERR_SOCKET") return true;
    if (message === "socket hang up" || message === "other side closed") return true;
  }
  return false;
}

/** Long enough for an 8 MiB body on a slow link; a relay silent this long is treated as unreachable. */
const REQUEST_TIMEOUT_MS = 60_000;

/**
 * A fetch reply (FETCH_BINARY_TYPE, docs/protocol.md): a headed frame whose head lists each
 * message's id and size, then the bodies. The sizes must account for every byte after the head, no
 * more and no less: anything else is a malformed reply, never a short body.
 */
export function readBinaryFetch(reply: Uint8Array): { messages: FetchedMessage[]; cursorFound?: boolean } {
  const bad = () => new RelayError("bad_response", "relay sent a malformed fetch reply");
  const split = splitHeadedFrame(reply);
  const head = split && FetchHead.safeParse(split.head);
  if (!split || !head?.success) throw bad();
  let at = 0;
  const messages = head.data.messages.map(({ msgId, size }) => {
    if (size > split.rest.length - at) throw bad();
    const body = split.rest.subarray(at, at + size);
    at += size;
    return { msgId, body };
  });
  if (at !== split.rest.length) throw bad();
  const { cursorFound } = head.data;
  return cursorFound === undefined ? { messages } : { messages, cursorFound };
}

/** A JSON fetch reply (from a relay that does not send the binary form), bodies decoded. */
function fromJsonFetch(res: FetchResponse): { messages: FetchedMessage[]; cursorFound?: boolean } {
  const messages = res.messages.map((m) => {
    try {
      return { msgId: m.msgId, body: fromBase64Url(m.body) };
    } catch {
      throw new RelayError("bad_response", "relay sent a message body that is not base64url");
    }
  });
  return res.cursorFound === undefined ? { messages } : { messages, cursorFound: res.cursorFound };
}
