/**
 * Fuzzing the relay's HTTP and WebSocket input against a real relay on a real port.
 *
 * Properties, for every input:
 * - the relay never answers 5xx: `internal` (500) is documented, but only for a bug, and nothing a
 *   client sends may cause one (and nothing is logged at error level);
 * - every error reply is `{code, error}` with a code of ErrorCodes and its ErrorStatus;
 * - it stays up: `GET /v1/health` answers after every run, no WebSocket frame ends it, a frame gets
 *   an `err` (never `internal`) and the connection stays usable unless the frame is over the hard
 *   size limit;
 * - afterwards an ordinary client flow (create queue, send, fetch, ack; sub over a WebSocket) works.
 *
 * Error replies that Fastify or Node's HTTP parser produce themselves, not in `{code, error}` form,
 * are collected and printed instead of failing, as long as their status is 4xx; set
 * STRICT_ERROR_BODIES to true (or PARLEY_FUZZ_STRICT=1) once they are all converted.
 *
 * A fixed seed by default; run longer with
 *   PARLEY_FUZZ_RUNS=20 PARLEY_FUZZ_SEED=$RANDOM PARLEY_TEST_FILE_DEADLINE_MS=3600000 \
 *     node scripts/run-tests.mjs fuzz-relay
 * (PARLEY_FUZZ_RUNS multiplies every property's default number of runs).
 */
import assert from "node:assert/strict";
import { connect } from "node:net";
import { describe, it } from "node:test";
import { type ErrorCode, ErrorCodes, ErrorStatus, PADDING_BUCKETS, ServerFrame } from "@parley/protocol";
import fc from "fast-check";
import {
  byId,
  captureLogs,
  command,
  createQueue,
  envelope,
  isMsg,
  newKey,
  nonce,
  openSocket,
  postBytes,
  signCommand,
  signCreate,
  startTestRelay,
  type TestKey,
} from "./helpers.js";

// ---------------------------------------------------------------------------------------------------
// Run control

const SEED = Number(process.env["PARLEY_FUZZ_SEED"] ?? 0x5eed_c0de);
const SCALE = Math.max(Number(process.env["PARLEY_FUZZ_RUNS"] ?? 1) || 1, 0.01);
const params = (runs: number): fc.Parameters<unknown> => ({
  seed: SEED,
  numRuns: Math.max(1, Math.round(runs * SCALE)),
  interruptAfterTimeLimit: 100_000 * Math.max(1, SCALE),
  markInterruptAsFailure: true,
});
/** Per test; a longer run (PARLEY_FUZZ_RUNS) gets proportionally longer. */
const TEST_TIMEOUT_MS = 120_000 * Math.max(1, SCALE);
console.log(`fuzz-relay: seed ${SEED} (PARLEY_FUZZ_SEED), runs ×${SCALE} (PARLEY_FUZZ_RUNS)`);

/**
 * Whether every error reply must be `{code, error}`: yes (the relay converts Node's and Fastify's
 * own refusals too). PARLEY_FUZZ_STRICT=0 lists offenders at the end of the run instead of failing.
 */
const STRICT_ERROR_BODIES = process.env["PARLEY_FUZZ_STRICT"] !== "0";

/** Statuses a code may come with besides its ErrorStatus: oversized headers are 431, not 413. */
const ALSO: Readonly<Record<string, readonly number[]>> = { too_large: [431] };

/** The relay's message size limit in this test: small, so "too large" costs little to send. */
const MAX_MESSAGE_BYTES = 32 * 1024;
const REQUEST_DEADLINE_MS = 5_000;

const CODES = new Set<string>(Object.values(ErrorCodes));

/** Error replies not in the protocol's form, keyed by a short description, with one example each. */
const nonConforming = new Map<string, string>();
function noteNonConforming(kind: string, example: string): void {
  if (STRICT_ERROR_BODIES) assert.fail(`${kind}: ${example}`);
  if (!nonConforming.has(kind)) nonConforming.set(kind, example.slice(0, 300));
}

/**
 * Checks an error reply: 4xx, and `{code, error}` with a known code whose status is this status.
 * Returns false (after noting it) for a reply in some other form.
 */
function checkErrorReply(where: string, status: number, contentType: string | null, text: string): void {
  assert.ok(status >= 400 && status < 500, `${where}: status ${status}: ${text.slice(0, 300)}`);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    noteNonConforming(`${status} not JSON (${contentType ?? "no content type"})`, `${where} → ${text}`);
    return;
  }
  const b = body as { code?: unknown; error?: unknown };
  if (
    typeof body !== "object" ||
    body === null ||
    typeof b.code !== "string" ||
    typeof b.error !== "string" ||
    !CODES.has(b.code)
  ) {
    const native = typeof b.code === "string" ? ` (${b.code.slice(0, 40)})` : "";
    noteNonConforming(`${status} JSON not {code, error}${native}`, `${where} → ${text}`);
    return;
  }
  assert.ok(
    ErrorStatus[b.code as ErrorCode] === status || ALSO[b.code]?.includes(status),
    `${where}: code ${b.code} with status ${status}`,
  );
  assert.ok(b.error.length > 0, `${where}: empty error message`);
  assert.doesNotMatch(text, /\bat .*\.js:\d+/, `${where}: stack trace in an error reply`);
  assert.ok(contentType?.startsWith("application/json"), `${where}: content type ${contentType}`);
}

/** Fetch with a deadline: an unanswered request is a failure, not a hang. */
async function request(
  url: string,
  init: RequestInit,
): Promise<{ status: number; type: string | null; text: string }> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(REQUEST_DEADLINE_MS) });
  return { status: res.status, type: res.headers.get("content-type"), text: await res.text() };
}

async function assertHealthy(url: string): Promise<void> {
  const res = await request(`${url}/v1/health`, {});
  assert.equal(res.status, 200, `health: ${res.status} ${res.text}`);
  assert.equal((JSON.parse(res.text) as { ok: unknown }).ok, true);
}

// ---------------------------------------------------------------------------------------------------
// Generators

const B64U = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const b64u = (length: number) =>
  fc.string({ unit: fc.constantFrom(...B64U), minLength: length, maxLength: length });
const id22 = b64u(22);

/** Strings from every corner of Unicode, lone surrogates included. */
const anyString = (maxLength = 40) =>
  fc.oneof(
    fc.string({ maxLength }),
    fc.string({ unit: "binary", maxLength }),
    fc.constantFrom("", "\u0000", "\u202e", "\ud800", "💩", "__proto__", "constructor", "a".repeat(5000)),
  );

const hostileKey = fc.constantFrom("__proto__", "constructor", "prototype", "toString", "hasOwnProperty");

/** JSON values, with odd numbers and prototype-pollution keys. */
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  {
    weight: 1,
    arbitrary: fc.dictionary(
      fc.oneof(hostileKey, fc.string({ maxLength: 8 })),
      fc.jsonValue({ maxDepth: 2 }),
    ),
  },
  { weight: 1, arbitrary: fc.constantFrom(-1, 1.5, 2 ** 53, 2 ** 64, -(2 ** 63), 1e308, -0, "", null, true) },
);

/** Numeric tokens JSON.stringify cannot write: huge, negative zero, exponents, out of range. */
const numberToken = fc.constantFrom(
  "1e400",
  "-1e400",
  "-0",
  "1.0",
  "0.5",
  "9007199254740993",
  "-1",
  "1E2",
  "0e0",
);

/** A signed request as JSON text, with fields replaced by hostile values or raw number tokens. */
function mutatedJson(base: Record<string, unknown>): fc.Arbitrary<string> {
  const keys = Object.keys(base);
  return fc.oneof(
    // One or more fields replaced (or removed, or added).
    fc
      .array(
        fc.tuple(
          fc.oneof(fc.constantFrom(...keys), hostileKey, fc.string({ maxLength: 6 })),
          fc.option(hostileValue),
        ),
        { minLength: 1, maxLength: 3 },
      )
      .map((changes) => {
        const out: Record<string, unknown> = { ...base };
        for (const [k, v] of changes) {
          if (v === null) delete out[k];
          else
            Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
        }
        return JSON.stringify(out);
      }),
    // A number field written as a token JSON.stringify would never produce.
    fc.tuple(fc.constantFrom(...keys), numberToken).map(([k, token]) => {
      const json = JSON.stringify({ ...base, [k]: 0 });
      return json.replace(`"${k}":0`, `"${k}":${token}`);
    }),
    // A duplicate or `__proto__` key in the text itself (JSON.parse keeps the last / an own property).
    fc.constantFrom(...keys).map((k) => {
      const json = JSON.stringify(base);
      return `${json.slice(0, -1)},"${k}":${JSON.stringify(base[k])},"__proto__":{"polluted":1}}`;
    }),
  );
}

const deepJson = (depth: number) => "[".repeat(depth) + "]".repeat(depth);

/** Bodies for the JSON routes. */
function jsonBody(base: Record<string, unknown>): fc.Arbitrary<string | Uint8Array> {
  return fc.oneof(
    { weight: 6, arbitrary: mutatedJson(base) },
    { weight: 2, arbitrary: hostileValue.map((v) => JSON.stringify(v) ?? "null") },
    { weight: 2, arbitrary: fc.uint8Array({ maxLength: 256 }) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        "",
        " ",
        "{",
        "null",
        "[]",
        deepJson(1500), // under the body limit: parses, then refused
        deepJson(100_000), // over the body limit
        JSON.stringify({ pad: "x".repeat(5000) }),
        `{"__proto__":{"polluted":true}}`,
        `{"constructor":{"prototype":{"polluted":true}}}`,
      ),
    },
  );
}

const contentType = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.constantFrom("application/json", "application/octet-stream", undefined),
  },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      "text/plain",
      "application/json; charset=utf-16",
      "application/json; charset=latin1",
      "application/octet-stream; foo=bar",
      "multipart/form-data; boundary=x",
      "application/x-www-form-urlencoded",
      "APPLICATION/JSON",
      "a/b/c",
      ";;;",
      "application/",
      "*/*",
    ),
  },
  // Printable ASCII only: anything else is refused by fetch itself before it is sent.
  {
    weight: 1,
    arbitrary: fc.string({
      unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
      maxLength: 40,
    }),
  },
);

/** encodeURIComponent, which throws on a lone surrogate: those become `?` first. */
function encodeSegment(s: string): string {
  try {
    return encodeURIComponent(s);
  } catch {
    return encodeURIComponent(s.replace(/[\uD800-\uDFFF]/g, "?"));
  }
}

/** Path segments where an id goes: valid-looking, wrong, encoded unicode, numbers. */
const idSegment = fc.oneof(
  id22,
  b64u(21),
  b64u(23),
  fc.constantFrom(
    "-1",
    "0",
    "1.5",
    "1e400",
    "NaN",
    "__proto__",
    "constructor",
    "%00",
    "%2F",
    "%ED%A0%80", // a lone surrogate, UTF-8 encoded
    "%FF",
    "%zz",
    "..",
    ".",
  ),
  anyString(30).map(encodeSegment),
  fc.string({ minLength: 2000, maxLength: 3000 }).map(encodeSegment),
);

const method = fc.oneof(
  { weight: 6, arbitrary: fc.constant("POST") },
  { weight: 3, arbitrary: fc.constantFrom("GET", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS") },
);

const query = fc.oneof(
  { weight: 4, arbitrary: fc.constant("") },
  {
    weight: 1,
    arbitrary: fc.constantFrom("?", "?a=1&a=2", "?__proto__[x]=1", "?%zz", `?${"q".repeat(3000)}`),
  },
);

// ---------------------------------------------------------------------------------------------------
// The tests

describe("fuzz: relay HTTP and WebSocket input", () => {
  it("HTTP: hostile requests to every route get a 4xx {code, error} and the relay stays up", {
    timeout: TEST_TIMEOUT_MS,
  }, async (t) => {
    const logs = captureLogs("error");
    const relay = await startTestRelay(t, {
      logger: logs.logger,
      config: { maxMessageBytes: MAX_MESSAGE_BYTES },
    });
    // A real queue, so that well-signed commands reach the store (fetch, ack, del on it).
    const real = await createQueue(relay.url);
    const key = newKey();
    const createBase = signCreate(key);
    const commandBase = signCommand(real.key, "fetch", real.queueId);

    const route = fc.oneof(
      // Create a queue.
      fc.record({
        method,
        path: fc.constant("/v1/queues"),
        type: contentType,
        body: fc.option(jsonBody(createBase), { nil: undefined }),
      }),
      // Recipient commands: well-signed (on the real queue, any cmd and msgId) or mutated.
      fc.record({
        method,
        path: fc.constant("/v1/queues/command"),
        type: contentType,
        body: fc.oneof(
          fc
            .tuple(fc.constantFrom("fetch", "ack", "del", "sub"), fc.option(id22, { nil: undefined }))
            .map(([cmd, msgId]) =>
              JSON.stringify(signCommand(real.key, cmd as "fetch", real.queueId, msgId ? { msgId } : {})),
            ),
          jsonBody(commandBase),
        ),
      }),
      // Sealed-sender sends: random bodies, bucket sizes, over the limit, to real and bogus ids.
      fc.record({
        method,
        path: fc.oneof(fc.constant(real.sendId), idSegment).map((id) => `/v1/send/${id}`),
        type: contentType,
        body: fc.oneof(
          fc.uint8Array({ maxLength: 1024 }),
          fc.constantFrom(...PADDING_BUCKETS.filter((b) => b <= MAX_MESSAGE_BYTES)).map((n) => envelope(n)),
          fc.constantFrom(new Uint8Array(MAX_MESSAGE_BYTES + 1), new Uint8Array(128 * 1024), envelope(511)),
          jsonBody({ body: "x" }),
        ),
      }),
      // Invites: create with random blobs (and too large ones), claim with bogus ids.
      fc.record({
        method,
        path: fc.constant("/v1/invites"),
        type: contentType,
        body: fc.oneof(
          fc.uint8Array({ maxLength: 1024 }),
          fc.constantFrom(new Uint8Array(0), new Uint8Array(64 * 1024), new Uint8Array(64 * 1024 + 1)),
          jsonBody({ blob: "x" }),
        ),
      }),
      fc.record({
        method,
        path: idSegment.map((id) => `/v1/invites/${id}/claim`),
        type: contentType,
        body: fc.option(fc.oneof(fc.uint8Array({ maxLength: 2048 }), jsonBody({ a: 1 })), { nil: undefined }),
      }),
      // Unknown routes, the health route and the WebSocket route with the wrong method or no upgrade.
      fc.record({
        method,
        path: fc.oneof(
          fc.constantFrom(
            "/",
            "/v1",
            "/v1/",
            "/v2/queues",
            "/v1/health",
            "/v1/ws",
            "/v1/queues/",
            "/v1//queues",
            "/V1/QUEUES",
          ),
          fc.constantFrom(
            "/%",
            "/%zz",
            "/..%2f..%2fetc/passwd",
            "/\u00e9",
            "/v1/send/",
            "/v1/invites//claim",
          ),
          fc.array(idSegment, { minLength: 1, maxLength: 4 }).map((s) => `/${s.join("/")}`),
        ),
        type: contentType,
        body: fc.option(fc.uint8Array({ maxLength: 256 }), { nil: undefined }),
      }),
    );

    let runs = 0;
    await fc.assert(
      fc.asyncProperty(route, query, async (r, q) => {
        runs++;
        const url = `${relay.url}${r.path}${q}`;
        const headers: Record<string, string> = {};
        if (r.type !== undefined) headers["content-type"] = r.type;
        // fetch refuses a body on GET and HEAD.
        const body = r.method === "GET" || r.method === "HEAD" ? undefined : r.body;
        const res = await request(url, { method: r.method, headers, body: body as RequestInit["body"] });
        const where = `${r.method} ${r.path.slice(0, 80)}${q.slice(0, 20)} [${r.type ?? "-"}]`;
        if (res.status >= 400 && r.method !== "HEAD") checkErrorReply(where, res.status, res.type, res.text);
        else assert.ok(res.status < 500, `${where}: ${res.status} ${res.text.slice(0, 200)}`);
        await assertHealthy(relay.url);
      }),
      params(600),
    );
    assert.equal(({} as Record<string, unknown>)["polluted"], undefined, "Object.prototype was polluted");
    assert.deepEqual(logs.lines, [], "nothing a client sent caused an internal error");
    t.diagnostic(`HTTP: ${runs} requests`);
    await normalFlow(relay.url);
  });

  it("raw HTTP: malformed requests never get a 5xx, the relay stays up", {
    timeout: TEST_TIMEOUT_MS,
  }, async (t) => {
    const logs = captureLogs("error");
    const relay = await startTestRelay(t, {
      logger: logs.logger,
      config: { maxMessageBytes: MAX_MESSAGE_BYTES },
    });
    const token = fc.string({
      unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)),
      minLength: 1,
      maxLength: 12,
    });
    const header = fc.oneof(
      fc.constantFrom(
        "Content-Length: 5",
        "Content-Length: -1",
        "Content-Length: 99999999999999999999",
        "Content-Length: 1, 2",
        "Transfer-Encoding: chunked",
        "Transfer-Encoding: gzip, chunked",
        "Content-Type: application/json",
        "Content-Type: application/octet-stream",
        "Expect: 100-continue",
        "Upgrade: websocket",
        "Connection: Upgrade",
        "Sec-WebSocket-Version: 13",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
        "Host:",
        `X-Big: ${"a".repeat(20_000)}`,
      ),
      fc.tuple(token, fc.string({ maxLength: 20 })).map(([k, v]) => `${k}: ${v}`),
    );
    const requestLine = fc.oneof(
      fc
        .tuple(
          fc.constantFrom("GET", "POST", "PUT", "HEAD", "OPTIONS", "CONNECT", "TRACE", "BREW", "get"),
          fc.constantFrom(
            "/v1/queues",
            "/v1/queues/command",
            "/v1/send/AAAAAAAAAAAAAAAAAAAAAA",
            "/v1/invites",
            "/v1/ws",
            "/v1/health",
            "*",
            "http://x/v1/health",
            "//",
            "/%zz",
            "",
          ),
          fc.constantFrom("HTTP/1.1", "HTTP/1.0", "HTTP/2.0", "HTTP/9.9", "HTTP/1.1 extra", ""),
        )
        .map(([m, p, v]) => `${m} ${p} ${v}`),
      fc.string({ maxLength: 60 }),
    );
    const raw = fc.oneof(
      { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 512 }) },
      {
        weight: 4,
        arbitrary: fc
          .tuple(
            requestLine,
            fc.array(header, { maxLength: 5 }),
            fc.constantFrom("\r\n", "\n"),
            fc.uint8Array({ maxLength: 64 }),
            fc.boolean(),
          )
          .map(([line, headers, eol, body, withHost]) =>
            Buffer.concat([
              Buffer.from(
                [line, ...(withHost ? ["Host: relay"] : []), ...headers].join(eol) + eol + eol,
                "latin1",
              ),
              body,
            ]),
          ),
      },
    );
    await fc.assert(
      fc.asyncProperty(raw, async (bytes) => {
        const reply = await rawExchange(relay.port, bytes);
        const sent = Buffer.from(bytes).toString("latin1");
        // Every response on the connection (a 100 Continue, pipelined requests): never a 5xx.
        for (const m of reply.matchAll(/HTTP\/1\.[01] (\d{3}) /g)) {
          assert.ok(Number(m[1]) < 500, `raw request answered ${m[1]}: ${reply.slice(0, 300)}`);
        }
        const first = /^HTTP\/1\.[01] (\d{3})/.exec(reply);
        const status = Number(first?.[1] ?? 0);
        // The first reply's body, when it is an error of known length (Node's own parser errors
        // are plain text; a HEAD reply has no body).
        if (status >= 400 && !/^HEAD /.test(sent)) {
          const split = reply.indexOf("\r\n\r\n");
          const head = reply.slice(0, split);
          const type = /\r\ncontent-type: ([^\r]*)/i.exec(head)?.[1] ?? null;
          const length = /\r\ncontent-length: (\d+)/i.exec(head)?.[1];
          const body =
            split < 0
              ? ""
              : reply.slice(split + 4, length === undefined ? undefined : split + 4 + Number(length));
          const utf8Body = Buffer.from(body, "latin1").toString("utf8");
          checkErrorReply(`raw ${JSON.stringify(sent.slice(0, 60))}`, status, type, utf8Body);
        }
        await assertHealthy(relay.url);
      }),
      params(300),
    );
    assert.deepEqual(logs.lines, [], "nothing a client sent caused an internal error");
    await normalFlow(relay.url);
  });

  it("WebSocket: hostile frames get an err, never end the relay, the connection stays usable", {
    timeout: TEST_TIMEOUT_MS,
  }, async (t) => {
    const logs = captureLogs("error");
    const relay = await startTestRelay(t, {
      logger: logs.logger,
      config: { maxMessageBytes: MAX_MESSAGE_BYTES },
    });
    // One queue the fuzzed frames may act on (well signed, so they reach the store), another only
    // for the probe that checks the connection is still usable.
    const fuzzQueue = await createQueue(relay.url);
    const probeQueue = await createQueue(relay.url);
    await postBytes(`${relay.url}/v1/send/${fuzzQueue.sendId}`, envelope(512));
    const base = { ...signCommand(fuzzQueue.key, "fetch", fuzzQueue.queueId), id: 1 };
    const PROBE_ID = 4_000_000_000;

    type Frame =
      | { kind: "text"; data: string }
      | { kind: "binary"; data: Uint8Array }
      | { kind: "badUtf8"; data: Uint8Array };
    const text = (a: fc.Arbitrary<string>) => a.map((data): Frame => ({ kind: "text", data }));
    const frame: fc.Arbitrary<Frame> = fc.oneof(
      { weight: 5, arbitrary: text(mutatedJson(base)) },
      {
        weight: 3,
        arbitrary: text(
          fc
            .tuple(
              fc.constantFrom("sub", "fetch", "ack", "del"),
              fc.option(id22, { nil: undefined }),
              fc.oneof(fc.nat(), fc.constantFrom(-1, 1.5, 2 ** 53)),
            )
            .map(([cmd, msgId, id]) =>
              JSON.stringify({
                ...signCommand(fuzzQueue.key, cmd as "fetch", fuzzQueue.queueId, msgId ? { msgId } : {}),
                id,
              }),
            ),
        ),
      },
      { weight: 2, arbitrary: text(hostileValue.map((v) => JSON.stringify(v) ?? "null")) },
      { weight: 2, arbitrary: text(anyString(200)) },
      {
        weight: 1,
        arbitrary: fc.uint8Array({ maxLength: 256 }).map((data): Frame => ({ kind: "binary", data })),
      },
      {
        weight: 1,
        arbitrary: text(
          fc.constantFrom(
            deepJson(2000),
            deepJson(20_000),
            "x".repeat(4097),
            JSON.stringify({ ...base, pad: "p".repeat(8000) }),
          ),
        ),
      },
      {
        weight: 1,
        arbitrary: fc.constantFrom<Frame>(
          { kind: "text", data: "y".repeat(64 * 1024 + 1) }, // over the hard limit: the connection ends
          { kind: "binary", data: new Uint8Array(100 * 1024) },
          { kind: "badUtf8", data: Uint8Array.from([0x7b, 0xff, 0xfe, 0x7d]) }, // RFC 6455: fail the connection
        ),
      },
    );

    let frames = 0;
    let ended = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(frame, { minLength: 1, maxLength: 5 }), async (batch) => {
        const ws = await withDeadline(openSocket(relay.url), "WebSocket open");
        try {
          for (const f of batch) {
            frames++;
            if (f.kind === "text") ws.socket.send(f.data);
            else ws.socket.send(f.data, { binary: f.kind === "binary" });
          }
          const fatal = batch.some(
            (f) =>
              f.kind === "badUtf8" ||
              (f.kind === "text" ? Buffer.byteLength(f.data) : f.data.length) > 64 * 1024,
          );
          if (fatal) {
            const { code } = await withDeadline(ws.whenClosed(), "close after a fatal frame");
            assert.ok(code === 1009 || code === 1007 || code === 1006, `closed with ${code}`);
            ended++;
          } else {
            // The probe: a valid command after the hostile ones is answered, so the session is alive;
            // frames are answered in order, so by then every frame before it has had its reply.
            ws.send({ ...signCommand(probeQueue.key, "fetch", probeQueue.queueId), id: PROBE_ID });
            const probe = await ws.next(byId(PROBE_ID), REQUEST_DEADLINE_MS);
            assert.equal(probe["type"], "ok", `probe: ${JSON.stringify(probe)}`);
            const replies = ws.unclaimed().filter((f) => f["type"] !== "msg");
            assert.equal(replies.length, batch.length, "one reply per frame");
          }
          for (const f of ws.unclaimed()) {
            assert.ok(
              ServerFrame.safeParse(f).success,
              `not a ServerFrame: ${JSON.stringify(f).slice(0, 200)}`,
            );
            if (f["type"] === "err") {
              assert.ok(CODES.has(f["code"] as string), `unknown code ${String(f["code"])}`);
              assert.notEqual(f["code"], ErrorCodes.internal, `internal error: ${JSON.stringify(f)}`);
            }
          }
        } finally {
          if (!ws.closed()) await withDeadline(ws.close(), "WebSocket close");
        }
        await assertHealthy(relay.url);
      }),
      params(200),
    );
    assert.equal(({} as Record<string, unknown>)["polluted"], undefined, "Object.prototype was polluted");
    assert.deepEqual(logs.lines, [], "nothing a client sent caused an internal error");
    t.diagnostic(`WebSocket: ${frames} frames, ${ended} connections ended by a fatal frame`);
    await normalFlow(relay.url);
  });

  it("lists error replies not yet in {code, error} form", () => {
    if (nonConforming.size === 0) return;
    const lines = [...nonConforming].map(([kind, example]) => `  ${kind}: ${example}`);
    console.log(`error replies not in {code, error} form (4xx, tolerated):\n${lines.join("\n")}`);
  });
});

// ---------------------------------------------------------------------------------------------------
// Helpers

/** Rejects if `promise` has not settled within `ms`. */
async function withDeadline<T>(promise: Promise<T>, what: string, ms = REQUEST_DEADLINE_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Writes `bytes` on a fresh TCP connection, half-closes it, and returns what came back (latin1). */
function rawExchange(port: number, bytes: Uint8Array): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: "127.0.0.1" });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`raw request: no close within ${REQUEST_DEADLINE_MS} ms`));
    }, REQUEST_DEADLINE_MS);
    socket.on("data", (d) => chunks.push(d));
    socket.on("error", () => {
      // A reset after the relay refused the request: what came back so far is the answer.
    });
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString("latin1"));
    });
    socket.on("connect", () => socket.end(bytes));
  });
}

/** The ordinary client flow, after the fuzzing: create a queue, send, fetch, ack, and sub on a WebSocket. */
async function normalFlow(url: string): Promise<void> {
  await assertHealthy(url);
  const key: TestKey = newKey();
  const { queueId, sendId } = await createQueue(url, key);
  const sent = await postBytes(`${url}/v1/send/${sendId}`, envelope(512, 9));
  assert.equal(sent.status, 202);
  const fetched = await command(url, signCommand(key, "fetch", queueId, { nonce: nonce() }));
  assert.equal(fetched.status, 200);
  const messages = fetched.json["messages"] as { msgId: string; body: string }[];
  assert.deepEqual(
    messages.map((m) => m.msgId),
    [sent.json["msgId"]],
  );
  assert.deepEqual(Buffer.from(messages[0]!.body, "base64url"), Buffer.from(envelope(512, 9)));

  const ws = await withDeadline(openSocket(url), "WebSocket open");
  try {
    ws.send({ ...signCommand(key, "sub", queueId), id: 1 });
    assert.equal((await ws.next(byId(1)))["type"], "ok");
    assert.equal((await ws.next(isMsg))["msgId"], sent.json["msgId"]);
    ws.send({ ...signCommand(key, "ack", queueId, { msgId: sent.json["msgId"] as string }), id: 2 });
    assert.deepEqual(await ws.next(byId(2)), { type: "ok", id: 2 });
  } finally {
    await withDeadline(ws.close(), "WebSocket close");
  }
  const after = await command(url, signCommand(key, "fetch", queueId));
  assert.deepEqual(after.json["messages"], []);
}
