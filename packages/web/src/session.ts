/**
 * One unlocked profile in this browser: the IndexedDB backend, the encryption-at-rest layer over
 * it, and core's ParleyClient over that, used unchanged. Locking drops the key and the client;
 * nothing readable stays in memory that the UI does not show.
 */
import {
  type ClientEvent,
  EncryptedKeyValueStore,
  InProcessLock,
  nobleCryptoProvider,
  ParleyClient,
  type ProfileLock,
  RelayLimits,
  Rfc9420Engine,
  type WebSocketLike,
} from "@parley/core";
import { argon2idKdf } from "./kdf";
import { type LineEvent, lineEventOf, type SystemLine } from "./lines";
import { DEFAULT_NOTIFICATIONS, type NotificationSettings } from "./notifications";
import { DEFAULT_DATABASE, IndexedDbKeyValueStore } from "./storage/indexeddb-store";

const crypto = nobleCryptoProvider;

/** Serialises profile operations across this browser's tabs (Web Locks), not just within one. */
class WebLocksProfileLock implements ProfileLock {
  async run<T>(fn: () => Promise<T>): Promise<T> {
    let result: { value: T } | undefined;
    await navigator.locks.request("parley-profile", async () => {
      result = { value: await fn() };
    });
    return result!.value;
  }
}

function profileLock(): ProfileLock {
  return typeof navigator !== "undefined" && navigator.locks
    ? new WebLocksProfileLock()
    : new InProcessLock();
}

/**
 * The web app keeps its own small records beside core's, under "web/", encrypted like the rest:
 * what was read when, and the lines a group chat shows between messages ("Carol was added"), as
 * events worded when shown (lines.ts; up to 0.1 as words, still read). (Up
 * to 0.1 it also kept each group's member list under web/members/, to work out who joined by
 * comparing lists; the engine's `members` events say it now, and those records are no longer read.)
 */
const READ_KEY = (conversationId: string) => `web/read/${conversationId}`;
const NOTIFICATIONS_KEY = "web/settings/notifications";
const LINES_PREFIX = (conversationId: string) => `web/lines/${conversationId}/`;
const MAX_LINES = 200;

const encodeJson = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const decodeJson = <T>(bytes: Uint8Array): T => JSON.parse(new TextDecoder().decode(bytes)) as T;

export const MIN_PASSPHRASE_LENGTH = 8;

/** What a tab says on its BroadcastChannel when it starts using the profile (see watchOtherTabs). */
interface TabAnnouncement {
  type: "active";
  tab: string;
  at: number;
}

/** This browser half-way to being a new device of a profile (Session.beginLink). */
export interface PendingLink {
  /** The short code: the other device shows the same, and the person types it there. */
  code: string;
  /** The name this device gave itself. */
  device: string;
  /** Waits for the other device; then this browser has the profile, unlocked. */
  finish(): Promise<{ session: Session; joined: number; skipped: number }>;
  /** Gives up: the profile made for it is deleted from this browser. */
  cancel(): Promise<void>;
}

export class Session {
  private listening: { abort: AbortController; done: Promise<void> } | undefined;

  private constructor(
    private readonly idb: IndexedDbKeyValueStore,
    private readonly store: EncryptedKeyValueStore,
    readonly client: ParleyClient,
  ) {}

  /** Is there a profile in this browser (so: ask for the passphrase rather than onboard)? */
  static async exists(database = DEFAULT_DATABASE): Promise<boolean> {
    const idb = await IndexedDbKeyValueStore.open(database);
    try {
      return await EncryptedKeyValueStore.exists(idb);
    } finally {
      await idb.close();
    }
  }

  static async create(options: {
    name: string;
    passphrase: string;
    relay: string;
    database?: string;
  }): Promise<Session> {
    const session = await Session.fresh(options.passphrase, options.database);
    try {
      await session.client.init(options.name, options.relay);
    } catch (e) {
      await session.discard();
      throw e;
    }
    return session;
  }

  /**
   * Makes this browser a new device of a profile the person has on another device (core
   * devices/link-new.ts): the encrypted store is made under the passphrase, the link is claimed and
   * the hello sent. The returned code is compared by the person, who types it on the other device;
   * `finish` then waits for that device and joins every conversation. Nothing stays behind when a
   * step fails or the person cancels: the next attempt starts from an empty device.
   */
  static async beginLink(options: {
    link: string;
    deviceName: string;
    passphrase: string;
    database?: string;
  }): Promise<PendingLink> {
    const session = await Session.fresh(options.passphrase, options.database);
    let pending: Awaited<ReturnType<ParleyClient["beginDeviceLink"]>>;
    try {
      pending = await session.client.beginDeviceLink(options.link, options.deviceName);
    } catch (e) {
      await session.discard();
      throw e;
    }
    return {
      code: pending.code,
      device: pending.device,
      async finish() {
        try {
          const result = await session.client.finishDeviceLink(pending);
          // What came with the link (its history, if the other device sent it) is not new here:
          // every conversation counts as read up to now, as core's own read state does.
          const now = new TextEncoder().encode(String(Date.now()));
          const conversations = await session.client.conversations();
          await session.store.write(conversations.map((c) => ({ key: READ_KEY(c.id), value: now })));
          return { session, joined: result.joined.length, skipped: result.skipped.length };
        } catch (e) {
          await session.discard();
          throw e;
        }
      },
      cancel: () => session.discard(),
    };
  }

  /** A session on a new, empty encrypted store under `passphrase`: no profile in it yet. */
  private static async fresh(passphrase: string, database = DEFAULT_DATABASE): Promise<Session> {
    if (passphrase.length < MIN_PASSPHRASE_LENGTH) {
      throw new Error(`choose a passphrase of at least ${MIN_PASSPHRASE_LENGTH} characters`);
    }
    const idb = await IndexedDbKeyValueStore.open(database);
    let store: EncryptedKeyValueStore;
    try {
      store = await EncryptedKeyValueStore.create(idb, crypto, argon2idKdf, passphrase);
    } catch (e) {
      await idb.close();
      throw e;
    }
    return new Session(idb, store, makeClient(store, await relayAlternates()));
  }

  /** A profile not finished (a failed step): nothing half-made stays, the next attempt starts empty. */
  private async discard(): Promise<void> {
    await this.store.wipe();
    await this.idb.close();
  }

  /** Throws EncryptedStoreError with code "wrong_passphrase" when the passphrase does not match. */
  static async unlock(passphrase: string, database = DEFAULT_DATABASE): Promise<Session> {
    const idb = await IndexedDbKeyValueStore.open(database);
    try {
      const store = await EncryptedKeyValueStore.unlock(idb, crypto, argon2idKdf, passphrase);
      return new Session(idb, store, makeClient(store, await relayAlternates()));
    } catch (e) {
      await idb.close();
      throw e;
    }
  }

  /** Deletes this browser's profile without unlocking it (a forgotten passphrase). */
  static async wipeDevice(database = DEFAULT_DATABASE): Promise<void> {
    await IndexedDbKeyValueStore.deleteDatabase(database);
  }

  /**
   * One tab in use per profile: the newest tab to unlock it takes over, and every older one is
   * told (`onTakenOver`) and locks itself. Two tabs both live would each take the other's pushes
   * (the profile lock serialises them, and the second finds each message handled already), so one
   * of them would go stale: messages arriving and never shown there (issue 14). An older tab
   * locking itself also drops its copy of the key. Returns the function that stops watching.
   */
  watchOtherTabs(onTakenOver: () => void): () => void {
    if (typeof BroadcastChannel === "undefined") return () => {};
    const channel = new BroadcastChannel(`parley-tabs:${this.idb.name}`);
    const me: TabAnnouncement = {
      type: "active",
      tab: Array.from(crypto.randomBytes(8), (b) => b.toString(16).padStart(2, "0")).join(""),
      at: Date.now(),
    };
    channel.onmessage = (event: MessageEvent<unknown>) => {
      const other = event.data as Partial<TabAnnouncement> | null;
      if (other?.type !== "active" || typeof other.at !== "number" || typeof other.tab !== "string") return;
      if (other.tab === me.tab) return;
      // The newer one wins; the same instant is settled by the tab ids, the same way in both tabs.
      if (other.at > me.at || (other.at === me.at && other.tab > me.tab)) onTakenOver();
    };
    channel.postMessage(me);
    return () => channel.close();
  }

  /** Runs core's live delivery with the browser's WebSocket until `lock`. */
  listen(onEvent: (event: ClientEvent) => void): void {
    if (this.listening) return;
    const abort = new AbortController();
    const done = this.client.listen(onEvent, abort.signal).catch((e: Error) => {
      onEvent({ type: "status", status: "closed", detail: e.message });
    });
    this.listening = { abort, done };
  }

  /** This browser's notification settings for the profile (kept encrypted like the rest). */
  async notificationSettings(): Promise<NotificationSettings> {
    const raw = await this.store.get(NOTIFICATIONS_KEY);
    return raw === undefined
      ? DEFAULT_NOTIFICATIONS
      : { ...DEFAULT_NOTIFICATIONS, ...decodeJson<Partial<NotificationSettings>>(raw) };
  }

  async saveNotificationSettings(settings: NotificationSettings): Promise<void> {
    await this.store.write([{ key: NOTIFICATIONS_KEY, value: encodeJson(settings) }]);
  }

  async lastRead(conversationId: string): Promise<number> {
    const raw = await this.store.get(READ_KEY(conversationId));
    return raw === undefined ? 0 : Number(new TextDecoder().decode(raw)) || 0;
  }

  /**
   * Marks a conversation read up to `at`, for the unread counts; and tells the engine, which sends
   * a read receipt where the conversation allows it (on by default in chats, off in groups).
   */
  async markRead(conversationId: string, at: number): Promise<void> {
    if ((await this.lastRead(conversationId)) >= at) return;
    await this.store.write([{ key: READ_KEY(conversationId), value: new TextEncoder().encode(String(at)) }]);
    await this.client.markRead(conversationId);
  }

  /** A chat's system lines, oldest first (the newest `limit`). */
  async systemLines(conversationId: string, limit = MAX_LINES): Promise<SystemLine[]> {
    const rows = await this.store.list(LINES_PREFIX(conversationId), { reverse: true, limit });
    return rows.reverse().flatMap(([key, value]) => {
      const at = Number(key.slice(LINES_PREFIX(conversationId).length).split("-")[0]);
      const event = lineEventOf(decodeJson<unknown>(value));
      return event ? [{ id: key, at, event }] : [];
    });
  }

  async addSystemLines(conversationId: string, events: LineEvent[], at = Date.now()): Promise<SystemLine[]> {
    const lines = events.map((event, i) => {
      const random = Array.from(crypto.randomBytes(6), (b) => b.toString(16).padStart(2, "0")).join("");
      const id = `${LINES_PREFIX(conversationId)}${String(at).padStart(15, "0")}-${i}${random}`;
      return { id, at, event };
    });
    if (lines.length) {
      await this.store.write(lines.map((l) => ({ key: l.id, value: encodeJson({ event: l.event }) })));
    }
    return lines;
  }

  /** Stops listening, forgets the key, closes the database. The object is useless afterwards. */
  async lock(): Promise<void> {
    if (this.listening) {
      this.listening.abort.abort();
      // Let a message being stored finish, but never hang the Lock button on a slow network.
      await Promise.race([this.listening.done, new Promise((r) => setTimeout(r, 2000))]);
      this.listening = undefined;
    }
    this.store.lock();
    await this.idb.close();
  }

  /** Deletes every record of this profile from the browser, then the database itself. */
  async wipe(): Promise<void> {
    if (this.listening) {
      this.listening.abort.abort();
      await Promise.race([this.listening.done, new Promise((r) => setTimeout(r, 2000))]);
      this.listening = undefined;
    }
    await this.store.wipe();
    await this.idb.close();
    await IndexedDbKeyValueStore.deleteDatabase(this.idb.name);
  }
}

function makeClient(store: EncryptedKeyValueStore, alternates: Record<string, string[]>): ParleyClient {
  return new ParleyClient({
    store,
    crypto,
    engine: new Rfc9420Engine(crypto),
    webSocket: (url: string) => new WebSocket(url) as unknown as WebSocketLike,
    lock: profileLock(),
    relayAlternates: alternates,
    // A 0.1 profile's groups (TsMlsEngine states) are converted once, by code of ts-mls (a
    // development dependency): Vite makes this import a chunk of its own, fetched only then.
    loadTsMlsConverter: () => import("@parley/core/ts-mls"),
  });
}

/**
 * The relay's nodes as it announces them (`GET /v1/limits`, `nodes`: its `--public-origin`s), each
 * mapped to the others: core's requests and WebSocket fail over between them, so the app goes on
 * through another node when the one it was loaded from is gone. The page's CSP lets it connect to
 * exactly those origins. None announced, or the relay not answering: no alternates.
 */
async function relayAlternates(): Promise<Record<string, string[]>> {
  try {
    const res = await fetch(`${window.location.origin}/v1/limits`, { signal: AbortSignal.timeout(5000) });
    const nodes = new Set(RelayLimits.parse(await res.json()).nodes ?? []);
    if (nodes.size === 0) return {};
    nodes.add(window.location.origin);
    const all = [...nodes];
    return Object.fromEntries(all.map((n) => [n, all.filter((o) => o !== n)]));
  } catch {
    return {};
  }
}
