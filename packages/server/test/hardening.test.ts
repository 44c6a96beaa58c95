import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { describe, it } from "node:test";
import { ErrorBody, splitHeadedFrame, toBase64Url } from "@parley/protocol";
import { fetchReply, msgFrame } from "../src/http/encode.js";
import type { StoredMessage } from "../src/index.js";
import { TurnPacer } from "../src/relay/turn-pacer.js";
import {
  byId,
  command,
  createQueue,
  envelope,
  isMsg,
  nonce,
  openSocket,
  postBytes,
  postJson,
  signCommand,
  startTestRelay,
  tempDir,
} from "./helpers.js";

/** Sends raw bytes on a fresh connection and resolves with everything the relay answers. */
function raw(url: string, request: string, deadlineMs = 5000): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let out = "";
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within ${deadlineMs} ms: ${out}`));
    }, deadlineMs);
    socket.on("data", (d) => {
      out += d;
    });
    socket.on("error", () => {});
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(out);
    });
    socket.write(request);
  });
}

function parseRaw(answer: string): { status: number; headers: string; body: unknown } {
  const [head = "", body = ""] = answer.split("\r\n\r\n");
  return {
    status: Number(/^HTTP\/1\.1 (\d+)/.exec(head)?.[1]),
    headers: head.toLowerCase(),
    body: JSON.parse(body),
  };
}

/** A WebSocket upgrade with these headers: resolves with the status (101 if accepted). */
async function upgradeStatus(url: string, headers: Record<string, string>): Promise<number> {
  const { WebSocket } = await import("ws");
  const socket = new WebSocket(`${url.replace(/^http/, "ws")}/v1/ws`, { headers });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.terminate();
      reject(new Error("no answer to the upgrade"));
    }, 5000);
    socket.on("unexpected-response", (_req, res) => {
      clearTimeout(timer);
      res.resume();
      socket.terminate();
      resolve(res.statusCode ?? 0);
    });
    socket.on("open", () => {
      clearTimeout(timer);
      socket.close();
      resolve(101);
    });
    socket.on("error", () => {});
  });
}

const message = (msgId: string, body: Uint8Array) => ({ msgId, body, seq: 1, expiresAt: 0 }) as StoredMessage;

describe("relay hardening", () => {
  it("answers every refusal as {code, error}, Node's and Fastify's own included", async (t) => {
    const relay = await startTestRelay(t);
    const url = relay.url;
    const expectError = (status: number, res: { status: number; body: unknown }, what: string) => {
      assert.equal(res.status, status, what);
      assert.ok(ErrorBody.safeParse(res.body).success, `${what}: ${JSON.stringify(res.body)}`);
      assert.deepEqual(Object.keys(res.body as object).sort(), ["code", "error"], what);
    };
    const viaFetch = async (path: string, init?: RequestInit) => {
      const res = await fetch(`${url}${path}`, init);
      return { status: res.status, body: await res.json() };
    };
    expectError(404, await viaFetch("/v1/nothing"), "unknown route");
    expectError(404, await viaFetch("/v1/health", { method: "DELETE" }), "method not allowed");
    expectError(
      400,
      await viaFetch("/v1/queues", { method: "POST", headers: { "content-type": "text/plain" }, body: "x" }),
      "unsupported media type",
    );
    expectError(
      413,
      await viaFetch("/v1/queues", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ pad: "x".repeat(10_000) }),
      }),
      "body too large",
    );
    expectError(
      400,
      await viaFetch("/v1/queues", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{",
      }),
      "bad JSON",
    );
    expectError(
      400,
      parseRaw(await raw(url, "GET /v1/send/%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")),
      "bad URL",
    );
    expectError(400, parseRaw(await raw(url, "NOT HTTP AT ALL\r\n\r\n")), "malformed request");
    const huge = parseRaw(
      await raw(url, `GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Pad: ${"a".repeat(20_000)}\r\n\r\n`),
    );
    expectError(431, huge, "headers too large");
    assert.match(huge.headers, /x-content-type-options: nosniff/);
    assert.equal((await fetch(`${url}/v1/health`)).status, 200, "still serving");
  });

  it("marks API replies nosniff and no-store, and static files nosniff with their own caching", async (t) => {
    const dir = tempDir(t);
    writeFileSync(join(dir, "index.html"), "<!doctype html>");
    const relay = await startTestRelay(t, { config: { staticDir: dir } });
    for (const res of [
      await fetch(`${relay.url}/v1/health`),
      await fetch(`${relay.url}/v1/nothing`),
      await fetch(`${relay.url}/v1/queues`, {
        method: "POST",
        body: "{",
        headers: { "content-type": "application/json" },
      }),
    ]) {
      assert.equal(res.headers.get("x-content-type-options"), "nosniff", res.url);
      assert.equal(res.headers.get("cache-control"), "no-store", res.url);
      await res.arrayBuffer();
    }
    const page = await fetch(`${relay.url}/`);
    assert.equal(page.headers.get("x-content-type-options"), "nosniff");
    assert.equal(page.headers.get("cache-control"), "no-cache");
    await page.arrayBuffer();
  });

  it("serves the web app's own files only: no test bundles, source maps or dotfiles", async (t) => {
    const dir = tempDir(t);
    mkdirSync(join(dir, "assets"));
    mkdirSync(join(dir, "test"));
    writeFileSync(join(dir, "index.html"), "<!doctype html>");
    writeFileSync(join(dir, "assets", "app.js"), "1");
    writeFileSync(join(dir, "assets", "app.js.map"), "{}");
    writeFileSync(join(dir, "test", "app.test.js"), "secret test");
    writeFileSync(join(dir, "test", "index.html"), "secret test");
    writeFileSync(join(dir, ".env"), "x");
    const relay = await startTestRelay(t, { config: { staticDir: dir } });
    assert.equal((await fetch(`${relay.url}/assets/app.js`)).status, 200);
    for (const path of [
      "/assets/app.js.map",
      "/test/app.test.js",
      "/test/",
      "/test",
      "/.env",
      "/assets/../test/app.test.js",
    ]) {
      const res = await fetch(`${relay.url}${path}`);
      assert.equal(res.status, 404, path);
      assert.ok(ErrorBody.safeParse(await res.json()).success, path);
    }
  });

  it("builds the CSP from 'self' and configured origins, never from the Host header", async (t) => {
    const dir = tempDir(t);
    writeFileSync(join(dir, "index.html"), "<!doctype html>");
    const plain = await startTestRelay(t, { config: { staticDir: dir } });
    const answer = await raw(plain.url, "GET / HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n");
    const csp = /content-security-policy: ([^\r\n]*)/i.exec(answer)?.[1] ?? "";
    assert.match(csp, /connect-src 'self';/);
    assert.ok(!csp.includes("evil.example"), csp);

    const configured = await startTestRelay(t, {
      config: { staticDir: dir, publicOrigins: ["https://relay.example"] },
    });
    const res = await fetch(`${configured.url}/`);
    assert.match(
      res.headers.get("content-security-policy") ?? "",
      /connect-src 'self' https:\/\/relay\.example wss:\/\/relay\.example;/,
    );
    await res.arrayBuffer();
  });

  it("accepts WebSockets without Origin or from its own or an allowed origin, and refuses others with 403", async (t) => {
    const relay = await startTestRelay(t, { config: { allowedOrigins: ["https://app.example"] } });
    const own = new URL(relay.url);
    assert.equal(await upgradeStatus(relay.url, {}), 101, "no Origin: not a browser");
    assert.equal(await upgradeStatus(relay.url, { origin: relay.url }), 101, "the relay's own origin");
    assert.equal(await upgradeStatus(relay.url, { origin: "https://app.example" }), 101, "allowed");
    assert.equal(await upgradeStatus(relay.url, { origin: "https://evil.example" }), 403);
    assert.equal(await upgradeStatus(relay.url, { origin: `http://${own.hostname}:1` }), 403, "other port");
    assert.equal(await upgradeStatus(relay.url, { origin: "null" }), 403);
    assert.equal((await fetch(`${relay.url}/v1/health`)).status, 200);
  });

  it("refuses small-order and non-canonical recipient keys at queue creation", async (t) => {
    const relay = await startTestRelay(t);
    const identity = new Uint8Array(32);
    identity[0] = 1; // y = 1: the neutral element, of order 1
    const orderTwo = new Uint8Array(32).fill(0xff);
    orderTwo[0] = 0xec; // y = p - 1: (0, -1), of order 2
    orderTwo[31] = 0x7f;
    const nonCanonical = new Uint8Array(32).fill(0xff);
    nonCanonical[0] = 0xee; // y = p + 1, which is the identity again, not reduced
    nonCanonical[31] = 0x7f;
    // With the identity as key, R = identity and S = 0 "verify" for any message under the plain
    // equation [S]B = R + [k]A: anyone could own such a queue.
    const forged = toBase64Url(new Uint8Array([...identity, ...new Uint8Array(32)]));
    for (const [what, key] of [
      ["identity", identity],
      ["order 2", orderTwo],
      ["y not reduced", nonCanonical],
    ] as const) {
      const res = await postJson(`${relay.url}/v1/queues`, {
        recipientKey: toBase64Url(key),
        ts: Date.now(),
        nonce: nonce(),
        sig: forged,
      });
      assert.equal(res.status, 400, `${what}: ${JSON.stringify(res.json)}`);
      assert.equal(res.json["code"], "bad_request");
      assert.match(res.json["error"] as string, /Ed25519/);
    }
    await createQueue(relay.url); // an ordinary key is fine
  });

  it("sends fetch replies and pushed messages as headed frames: the head, then the bodies as they are", async () => {
    const pacer = new TurnPacer(1);
    // 200,000 and 2.5 MiB: large bodies, handed out in slices, one per turn of the pacer.
    for (const size of [0, 1, 2, 3, 49_152, 100_000, 200_000, 2.5 * 1024 * 1024]) {
      const body = new Uint8Array(size).map((_, i) => (i * 7 + size) % 256);
      const messages = [
        message("AAAAAAAAAAAAAAAAAAAAAA", body),
        message("BBBBBBBBBBBBBBBBBBBBBB", body.slice(0, 5)),
      ];
      for (const cursorFound of [undefined, true, false]) {
        const { length, stream } = fetchReply(messages, cursorFound, pacer);
        const chunks: Buffer[] = [];
        for await (const c of stream) chunks.push(c as Buffer);
        const reply = Buffer.concat(chunks);
        assert.equal(length, reply.length, `content length, ${size} bytes`);
        const split = splitHeadedFrame(reply);
        assert.ok(split, `a headed frame, ${size} bytes`);
        assert.deepEqual(split.head, {
          messages: messages.map((m) => ({ msgId: m.msgId, size: m.body.length })),
          ...(cursorFound === undefined ? {} : { cursorFound }),
        });
        assert.deepEqual(split.rest, Buffer.concat(messages.map((m) => m.body)), `bodies, ${size} bytes`);
      }
      const frame = splitHeadedFrame(msgFrame("QQQQQQQQQQQQQQQQQQQQQQ", messages[0]!));
      assert.ok(frame);
      assert.deepEqual(frame.head, {
        type: "msg",
        queueId: "QQQQQQQQQQQQQQQQQQQQQQ",
        msgId: messages[0]!.msgId,
      });
      assert.deepEqual(frame.rest, Buffer.from(body), `frame, ${size} bytes`);
    }
  });

  it("never holds more fetch and push bytes than the reply budget, however many fetch at once", async (t) => {
    const BODY = 512 * 1024;
    const relay = await startTestRelay(t, {
      config: { maxMessageBytes: BODY, maxFetchBytes: BODY, replyBudgetBytes: 2 * BODY },
    });
    const queues = await Promise.all(Array.from({ length: 8 }, () => createQueue(relay.url)));
    for (const [i, q] of queues.entries()) {
      assert.equal((await postBytes(`${relay.url}/v1/send/${q.sendId}`, envelope(BODY, i))).status, 202);
    }
    // Eight HTTP fetches and four WebSocket subscriptions at once, each wanting BODY bytes.
    const fetches = queues.map(async (q, i) => {
      const res = await command(relay.url, signCommand(q.key, "fetch", q.queueId));
      assert.equal(res.status, 200);
      const [m] = res.json["messages"] as { body: string }[];
      assert.deepEqual(Buffer.from(m!.body, "base64url"), Buffer.from(envelope(BODY, i)));
    });
    const sockets = await Promise.all(queues.slice(0, 4).map(() => openSocket(relay.url)));
    t.after(() => Promise.all(sockets.map((s) => s.close())));
    const pushes = sockets.map(async (ws, i) => {
      ws.send({ ...signCommand(queues[i]!.key, "sub", queues[i]!.queueId), id: 1 });
      await ws.next(byId(1), 20_000);
      const pushed = await ws.next(isMsg, 20_000);
      assert.deepEqual(Buffer.from(pushed["body"] as string, "base64url"), Buffer.from(envelope(BODY, i)));
    });
    await Promise.all([...fetches, ...pushes]);
    assert.ok(relay.replyBudget.highWater > 0, "the budget was used");
    assert.ok(
      relay.replyBudget.highWater <= 2 * BODY,
      `at most the budget in flight, saw ${relay.replyBudget.highWater}`,
    );
    assert.equal(relay.replyBudget.inUse, 0, "everything given back");
  });
});
