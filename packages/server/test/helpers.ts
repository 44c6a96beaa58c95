import { generateKeyPairSync, type KeyObject, randomBytes, sign } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import {
  createQueueBytes,
  FETCH_BINARY_TYPE,
  FetchHead,
  PushHead,
  type RecipientCommandName,
  recipientCommandBytes,
  splitHeadedFrame,
  toBase64Url,
} from "@parley/protocol";
import { pino } from "pino";
import { type EnqueueResult, type RunningRelay, type StartRelayOptions, startRelay } from "../src/index.js";

export function tempDir(t: { after: (fn: () => void) => void }, prefix = "parley-server-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface TestKey {
  publicKey: string;
  privateKey: KeyObject;
}

export function newKey(): TestKey {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const raw = publicKey.export({ format: "der", type: "spki" }).subarray(12);
  return { publicKey: toBase64Url(raw), privateKey };
}

export const nonce = (): string => toBase64Url(randomBytes(16));

export function signCreate(
  key: TestKey,
  overrides: { ts?: number; nonce?: string; broadcast?: boolean; rendezvous?: true } = {},
) {
  const fields = {
    recipientKey: key.publicKey,
    ...(overrides.broadcast === undefined ? {} : { broadcast: overrides.broadcast }),
    ...(overrides.rendezvous === undefined ? {} : { rendezvous: overrides.rendezvous }),
    ts: overrides.ts ?? Date.now(),
    nonce: overrides.nonce ?? nonce(),
  };
  return { ...fields, sig: toBase64Url(sign(null, createQueueBytes(fields), key.privateKey)) };
}

export function signCommand(
  key: TestKey,
  cmd: RecipientCommandName,
  queueId: string,
  options: { msgId?: string; msgIds?: string[]; ts?: number; nonce?: string } = {},
) {
  const fields = {
    cmd,
    queueId,
    msgId: options.msgId,
    msgIds: options.msgIds,
    ts: options.ts ?? Date.now(),
    nonce: options.nonce ?? nonce(),
  };
  const sig = toBase64Url(sign(null, recipientCommandBytes(fields), key.privateKey));
  const { msgId, msgIds, ...rest } = fields;
  return {
    ...rest,
    ...(msgId === undefined ? {} : { msgId }),
    ...(msgIds === undefined ? {} : { msgIds }),
    sig,
  };
}

/** A body of exactly `size` bytes with a recognisable pattern (the relay checks only the size). */
export function envelope(size = 512, fill = 7): Uint8Array {
  const body = new Uint8Array(size).fill(fill);
  new DataView(body.buffer).setUint32(0, size - 4);
  return body;
}

/** Collects every log line a pino logger writes, for assertions on what is (not) logged. */
export function captureLogs(level = "info") {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(...chunk.toString("utf8").split("\n").filter(Boolean));
      done();
    },
  });
  return { logger: pino({ level }, stream), lines, text: () => lines.join("\n") };
}

export async function startTestRelay(
  t: { after: (fn: () => Promise<void> | void) => void },
  options: StartRelayOptions = {},
): Promise<RunningRelay> {
  const relay = await startRelay({ port: 0, ...options });
  t.after(() => relay.close());
  return relay;
}

export interface Reply {
  status: number;
  json: Record<string, unknown>;
}

export async function postJson(url: string, body: unknown): Promise<Reply> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

export async function postBytes(url: string, body: Uint8Array | undefined): Promise<Reply> {
  const res = await fetch(url, {
    method: "POST",
    headers: body === undefined ? {} : { "content-type": "application/octet-stream" },
    body,
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

/** Creates a queue through the HTTP API and returns its ids with the key that owns it. */
export async function createQueue(relayUrl: string, key = newKey(), options: { broadcast?: boolean } = {}) {
  const res = await postJson(`${relayUrl}/v1/queues`, signCreate(key, options));
  if (res.status !== 201) throw new Error(`create queue failed: ${JSON.stringify(res.json)}`);
  return { key, queueId: res.json["queueId"] as string, sendId: res.json["sendId"] as string };
}

/**
 * A recipient command over HTTP. A fetch reply (a headed frame, docs/protocol.md) is shown as the
 * JSON view tests read, `{messages: [{msgId, body: base64url}], cursorFound?}`, after checking that
 * the head's sizes account for every byte.
 */
export async function command(relayUrl: string, body: unknown): Promise<Reply> {
  const res = await fetch(`${relayUrl}/v1/queues/command`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: FETCH_BINARY_TYPE },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  if (res.headers.get("content-type") !== FETCH_BINARY_TYPE) {
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  }
  return { status: res.status, json: fetchView(new Uint8Array(await res.arrayBuffer())) };
}

/** A fetch reply's headed frame as the JSON view tests read (see `command`); throws if malformed. */
export function fetchView(reply: Uint8Array): Record<string, unknown> {
  const split = splitHeadedFrame(reply);
  if (!split) throw new Error("a fetch reply that is not a headed frame");
  const head = FetchHead.parse(split.head);
  let at = 0;
  const messages = head.messages.map(({ msgId, size }) => {
    const body = toBase64Url(split.rest.subarray(at, at + size));
    at += size;
    return { msgId, body };
  });
  if (at !== split.rest.length) throw new Error("a fetch reply whose sizes do not add up");
  return head.cursorFound === undefined ? { messages } : { messages, cursorFound: head.cursorFound };
}

/** A pushed message's binary frame as the JSON view tests read: `{type: "msg", queueId, msgId, body}`. */
export function pushView(frame: Uint8Array): Record<string, unknown> {
  const split = splitHeadedFrame(frame);
  if (!split) throw new Error("a pushed frame that is not a headed frame");
  return { ...PushHead.parse(split.head), body: toBase64Url(split.rest) };
}

/** A `ws` client that records every frame and lets a test wait for the next one matching a check. */
export async function openSocket(relayUrl: string, path = "/v1/ws") {
  const { WebSocket } = await import("ws");
  const socket = new WebSocket(relayUrl.replace(/^http/, "ws") + path);
  const frames: Record<string, unknown>[] = [];
  const waiters: {
    check: (f: Record<string, unknown>) => boolean;
    resolve: (f: Record<string, unknown>) => void;
  }[] = [];
  let closed: { code: number } | undefined;
  socket.on("message", (data, isBinary) => {
    const frame = isBinary
      ? pushView(data as Buffer)
      : (JSON.parse(data.toString()) as Record<string, unknown>);
    const i = waiters.findIndex((w) => w.check(frame));
    if (i >= 0) waiters.splice(i, 1)[0]!.resolve(frame);
    else frames.push(frame);
  });
  const closedPromise = new Promise<{ code: number }>((resolve) =>
    socket.on("close", (code) => {
      closed = { code };
      resolve({ code });
    }),
  );
  await new Promise<void>((resolve, reject) => {
    socket.once("open", () => resolve());
    socket.once("error", reject);
  });
  return {
    socket,
    send: (frame: unknown) => socket.send(typeof frame === "string" ? frame : JSON.stringify(frame)),
    /** Resolves with the first frame (already received or next) for which `check` holds. */
    next(check: (f: Record<string, unknown>) => boolean = () => true, timeoutMs = 3000) {
      const i = frames.findIndex(check);
      if (i >= 0) return Promise.resolve(frames.splice(i, 1)[0]!);
      return new Promise<Record<string, unknown>>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no matching frame within ${timeoutMs} ms`)),
          timeoutMs,
        );
        waiters.push({
          check,
          resolve: (f) => {
            clearTimeout(timer);
            resolve(f);
          },
        });
      });
    },
    /** Frames received and not yet taken by `next`. */
    unclaimed: () => [...frames],
    closed: () => closed,
    whenClosed: () => closedPromise,
    close() {
      socket.close();
      return closedPromise;
    },
  };
}

export const byId = (id: number | null) => (f: Record<string, unknown>) => f["id"] === id;
export const isMsg = (f: Record<string, unknown>) => f["type"] === "msg";
export const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The stored message of an enqueue that must succeed (throws on `unknown_queue` or `queue_full`). */
export async function stored(result: Promise<EnqueueResult>): Promise<{ queueId: string; msgId: string }> {
  const r = await result;
  if (r.status !== "stored") throw new Error(`enqueue failed: ${r.status}`);
  return { queueId: r.queueId, msgId: r.msgId };
}
