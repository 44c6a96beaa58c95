/**
 * The relay process under slow clients and a stalled log reader: each test runs the real bin in its
 * own process group and kills the group when done; every wait has a deadline.
 */
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { describe, it } from "node:test";
import { type Cleanup, startRelayProcess, within } from "@parley/testkit";
import { newKey, signCreate } from "./helpers.js";

/**
 * Starts the bin (@parley/testkit: its own process group, killed when the test ends); `stderr`
 * "read" collects it, "unread" leaves the pipe full, "closed" closes the reading end at once
 * (writes then fail with EPIPE).
 */
const spawnRelay = (t: Cleanup, args: string[], stderr: "read" | "unread" | "closed" = "read") =>
  startRelayProcess({ args, stderr, cleanup: t });

/**
 * A client that starts a large upload and sends one byte every 100 ms: never idle, never done.
 * Resolves once connected; `answer` resolves with what the relay wrote before closing.
 */
/** A real queue's send id: an upload to a send id the relay does not know is refused on its headers. */
async function realSendId(url: string): Promise<string> {
  // Connection: close, so no idle keep-alive connection is left holding one of the capped slots.
  const res = await fetch(`${url}/v1/queues`, {
    method: "POST",
    headers: { "content-type": "application/json", connection: "close" },
    body: JSON.stringify(signCreate(newKey())),
  });
  const json = (await res.json()) as { sendId: string };
  return json.sendId;
}

async function slowUpload(url: string, t: { after: (fn: () => void) => void }, sendId: string) {
  const { hostname, port } = new URL(url);
  const socket: Socket = connect(Number(port), hostname);
  let received = "";
  socket.on("data", (d) => {
    received += d;
  });
  socket.on("error", () => {});
  const closed = new Promise<string>((resolve) => socket.on("close", () => resolve(received)));
  await within(5000, "connect", new Promise<void>((resolve) => socket.once("connect", () => resolve())));
  socket.write(
    `POST /v1/send/${sendId} HTTP/1.1\r\nHost: relay\r\n` +
      "Content-Type: application/octet-stream\r\nContent-Length: 8388608\r\n\r\n",
  );
  const trickle = setInterval(() => {
    if (!socket.destroyed) socket.write("x");
  }, 100);
  const stop = () => {
    clearInterval(trickle);
    socket.destroy();
  };
  void closed.then(() => clearInterval(trickle));
  t.after(stop);
  return { answer: (ms: number) => within(ms, "slow client closed", closed), stop };
}

async function health(url: string): Promise<number> {
  const res = await fetch(`${url}/v1/health`, { signal: AbortSignal.timeout(5000) });
  await res.arrayBuffer();
  return res.status;
}

describe("relay process under denial of service", () => {
  it("times out slow uploads, caps connections, and serves new clients once they are gone", async (t) => {
    const CAP = 8;
    const relay = await spawnRelay(t, [
      "--max-connections",
      String(CAP),
      "--headers-timeout",
      "1",
      "--request-timeout",
      "2",
    ]);
    const sendId = await realSendId(relay.url);
    const slow = [];
    for (let i = 0; i < CAP; i++) slow.push(await slowUpload(relay.url, t, sendId));
    // Every slot is taken by a client that is still (slowly) sending: a new one is turned away…
    await assert.rejects(health(relay.url), "refused at the cap");
    // …until the request timeout ends the slow ones, each with a 408 in the relay's error form.
    for (const s of slow) {
      const answer = await s.answer(15_000);
      assert.match(answer, /^HTTP\/1\.1 408 /);
      assert.match(answer, /\{"code":"timeout","error":"[^"]+"\}$/);
    }
    assert.equal(await health(relay.url), 200, "a new client is served again");

    relay.child.kill("SIGTERM");
    assert.deepEqual(await relay.exited(10_000), { code: 0, signal: null });
  });

  it("exits within its shutdown grace on SIGTERM while slow clients hold connections open", async (t) => {
    const relay = await spawnRelay(t, ["--request-timeout", "600", "--shutdown-grace", "0.5"]);
    const sendId = await realSendId(relay.url);
    const slow = [];
    for (let i = 0; i < 20; i++) slow.push(await slowUpload(relay.url, t, sendId));
    assert.equal(await health(relay.url), 200);
    relay.child.kill("SIGTERM");
    // Far below the 600 s request timeout: the grace period cut the slow uploads.
    assert.deepEqual(await relay.exited(10_000), { code: 0, signal: null });
    for (const s of slow) await s.answer(5000);
  });

  for (const stderr of ["unread", "closed"] as const) {
    it(`keeps serving and exits on SIGTERM when stderr is ${stderr === "unread" ? "a pipe nobody reads" : "a closed pipe"}`, async (t) => {
      const relay = await spawnRelay(t, [], stderr);
      // 4,000 request lines of about 110 bytes: more than a pipe or socket buffer (~200 KiB) holds.
      let served = 0;
      const controller = new AbortController();
      t.after(() => controller.abort());
      await within(
        60_000,
        "requests",
        Promise.all(
          Array.from({ length: 16 }, async () => {
            for (let i = 0; i < 250; i++) {
              const res = await fetch(`${relay.url}/v1/health`, { signal: controller.signal });
              await res.arrayBuffer();
              assert.equal(res.status, 200);
              served++;
            }
          }),
        ),
      );
      assert.equal(served, 4000);
      relay.child.kill("SIGTERM");
      assert.deepEqual(await relay.exited(10_000), { code: 0, signal: null });
    });
  }
});
