/**
 * The client engine's context: what every operation in client/ works with, in the style of the
 * relay's `RelayContext` (packages/server/src/relay/operations.ts). Operations are plain functions
 * over a ClientContext; ParleyClient (parley-client.ts) is a facade that holds one and delegates.
 *
 * Rules every operation keeps:
 * - it reloads the state it needs from the store under the profile lock, so a CLI `send` and a
 *   running `listen` in another process never fork the MLS ratchets;
 * - state is stored before anything derived from it leaves the device, and a delivery is
 *   acknowledged (or a group cursor moved) only after its result is stored: at-least-once,
 *   deduplicated by relay msgId;
 * - nothing forged, tampered or malformed reaches history: it is reported as a rejection instead;
 * - group rules (who may add, remove, rename) are checked by this client on every commit it
 *   receives, because the relay cannot check them.
 */
import type { CryptoProvider } from "../crypto/provider.js";
import { toBase64Url as b64r } from "../encoding/base64url.js";
import { ParleyError } from "../errors.js";
import type { DeviceIdentity } from "../identity/device.js";
import { groupPolicy } from "../messaging/group-metadata.js";
import { InProcessLock, type ProfileLock } from "../messaging/profile-lock.js";
import type { CommitPolicy, MlsEngine } from "../mls/engine.js";
import { BlobHttpClient } from "../relay-client/blob-http.js";
import { type FetchLike, RelayHttpClient } from "../relay-client/relay-http.js";
import type { WebSocketFactory } from "../relay-client/relay-socket.js";
import type { KeyValueStore } from "../storage/key-value-store.js";
import type { TsMlsConverter } from "../store/migrations.js";
import type { ProfileRecord } from "../store/records.js";
import { ProfileRepository, unb64 } from "../store/repository.js";
import type { ClientEvent } from "./events.js";

export interface ClientEnvironment {
  store: KeyValueStore;
  crypto: CryptoProvider;
  engine: MlsEngine;
  webSocket?: WebSocketFactory;
  fetch?: FetchLike;
  lock?: ProfileLock;
  /**
   * Held while the outbox delivers (outbox-delivery.ts), so that two processes of one profile never
   * both send an entry; taken before `lock`, never while holding it. Default: within this process.
   */
  outboxLock?: ProfileLock;
  now?: () => number;
  /**
   * Relays served by several nodes: the other nodes' URLs, by the relay URL queues and the profile
   * name. Requests and WebSockets fail over to them (RelayHttpClient, RelaySocket `alternates`).
   */
  relayAlternates?: Readonly<Record<string, readonly string[]>>;
  /**
   * How local migration 4 loads its converter of 0.1 (TsMlsEngine) group states: by default the
   * package entry "@parley/core/ts-mls", found at run time where ts-mls is installed (Node). A
   * bundled app passes `() => import("@parley/core/ts-mls")`, which its bundler makes a chunk of its
   * own, fetched only by a profile that still has such states (store/migrations.ts).
   */
  loadTsMlsConverter?: () => Promise<TsMlsConverter>;
}

export interface ClientContext {
  readonly repo: ProfileRepository;
  readonly crypto: CryptoProvider;
  readonly engine: MlsEngine;
  readonly lock: ProfileLock;
  readonly outboxLock: ProfileLock;
  readonly now: () => number;
  /**
   * The time a message being sealed now carries (its sentAt): the clock, but strictly after the
   * last one this context handed out. Called under the profile lock, so the order messages are
   * sealed in is the order every history shows them in (orderKey: time, then a random id, which
   * would order two messages of one millisecond at random). Received messages whose sender's
   * clock runs ahead are placed at it too (inbox/history.ts).
   */
  sealingTime(): number;
  /** The group rules every commit we receive is checked against (group-metadata.ts). */
  readonly policy: CommitPolicy;
  readonly webSocket: WebSocketFactory | undefined;
  /** One HTTP client per relay URL. */
  relay(url: string): RelayHttpClient;
  /** The other nodes of a relay (ClientEnvironment.relayAlternates), none by default. */
  alternatesOf(url: string): readonly string[];
  /** The blob (file attachment) endpoints of a relay. */
  blobs(url: string): BlobHttpClient;
  /**
   * Who hears of what happens in the background (a send that did not wait for the relay: its
   * "sent" or "send_failed"): every running `listen`.
   */
  readonly listeners: Set<(event: ClientEvent) => void>;
  /** ClientEnvironment.loadTsMlsConverter. */
  readonly loadTsMlsConverter: (() => Promise<TsMlsConverter>) | undefined;
}

export function createContext(env: ClientEnvironment): ClientContext {
  const relays = new Map<string, RelayHttpClient>();
  const now = env.now ?? Date.now;
  let lastSealedAt = Number.NEGATIVE_INFINITY;
  return {
    repo: new ProfileRepository(env.store),
    crypto: env.crypto,
    engine: env.engine,
    lock: env.lock ?? new InProcessLock(),
    outboxLock: env.outboxLock ?? new InProcessLock(),
    now,
    sealingTime() {
      lastSealedAt = Math.max(Math.floor(now()), lastSealedAt + 1);
      return lastSealedAt;
    },
    policy: groupPolicy(env.engine),
    webSocket: env.webSocket,
    alternatesOf: (url) => env.relayAlternates?.[url] ?? [],
    loadTsMlsConverter: env.loadTsMlsConverter,
    relay(url) {
      let client = relays.get(url);
      if (!client) {
        client = new RelayHttpClient(url, env.crypto, env.fetch, {
          alternates: env.relayAlternates?.[url] ?? [],
          beforeRequest: () => env.store.durable(),
        });
        relays.set(url, client);
      }
      return client;
    },
    blobs: (url) => new BlobHttpClient(url, env.fetch),
    listeners: new Set(),
  };
}

export async function requireProfile(ctx: ClientContext): Promise<ProfileRecord> {
  const p = await ctx.repo.profile();
  if (!p) throw new ParleyError("no_profile", {});
  return p;
}

export function deviceOf(p: ProfileRecord): DeviceIdentity {
  return {
    identityKey: unb64(p.identityPublicKey),
    deviceKey: unb64(p.deviceKey),
    deviceSecretKey: unb64(p.deviceSecretKey),
    certificate: unb64(p.certificate),
  };
}

/** A fresh random local id (conversations, contacts, message content ids). */
export const randomId = (ctx: ClientContext, bytes = 16): string => b64r(ctx.crypto.randomBytes(bytes));

/** History lists by this key: the time a message belongs at, then its id. */
export function orderKey(ctx: ClientContext, id: string, at = ctx.now()): string {
  return `${Math.max(0, Math.floor(at)).toString().padStart(15, "0")}-${id}`;
}
