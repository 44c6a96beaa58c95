import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SqliteStore, type Store, StoreUnavailableError } from "../src/index.js";
import {
  byId,
  captureLogs,
  command,
  createQueue,
  envelope,
  openSocket,
  postBytes,
  signCommand,
  startTestRelay,
} from "./helpers.js";

/** A real in-memory store whose `methods` throw `error()` while `failing()` says so. */
function failingStore(methods: (keyof Store)[], error: () => Error, failing = () => true): Store {
  const real = SqliteStore.open(":memory:");
  return new Proxy(real, {
    get(target, prop, receiver) {
      if (methods.includes(prop as keyof Store) && failing()) {
        return async () => {
          throw error();
        };
      }
      const value = Reflect.get(target, prop, receiver);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** A store whose `ack` and `fetchPending` fail, as a broken disk or database would. */
const brokenStore = (): Store => failingStore(["ack", "fetchPending"], () => new Error("disk on fire"));

/** A store whose writes fail as on a full disk (`code` as node:fs or better-sqlite3 give it) until `full` is cleared. */
function fullDiskStore(code: string): Store & { full: boolean } {
  const state = { full: true };
  const store = failingStore(
    ["enqueue", "createInvite"],
    () => Object.assign(new Error(`write failed: ${code}`), { code }),
    () => state.full,
  );
  return Object.defineProperty(store, "full", {
    get: () => state.full,
    set: (value: boolean) => {
      state.full = value;
    },
  }) as Store & { full: boolean };
}

describe("relay under internal failure", () => {
  for (const code of ["ENOSPC", "SQLITE_FULL"]) {
    it(`refuses new data 507 storage_full when the disk is full (${code}), and takes it once there is room`, async (t) => {
      const logs = captureLogs();
      const store = fullDiskStore(code);
      t.after(() => store.close());
      const relay = await startTestRelay(t, { store, logger: logs.logger });
      const { key, queueId, sendId } = await createQueue(relay.url);
      const refused = await postBytes(`${relay.url}/v1/send/${sendId}`, envelope(512));
      assert.equal(refused.status, 507);
      assert.equal(refused.json["code"], "storage_full");
      assert.match(logs.text(), /disk full/);
      assert.doesNotMatch(logs.text(), /internal error/);

      store.full = false;
      assert.equal((await postBytes(`${relay.url}/v1/send/${sendId}`, envelope(512))).status, 202);
      const res = await command(relay.url, signCommand(key, "fetch", queueId));
      assert.equal((res.json["messages"] as unknown[]).length, 1, "only the message taken");
    });
  }

  it("answers 503 busy, over HTTP and WebSocket, while the store's server cannot be reached", async (t) => {
    const logs = captureLogs();
    const state = { down: true };
    const store = failingStore(
      ["ack", "fetchPending", "enqueue"],
      () => new StoreUnavailableError("PostgreSQL cannot be reached"),
      () => state.down,
    );
    t.after(() => store.close());
    const relay = await startTestRelay(t, { store, logger: logs.logger });
    const { key, queueId, sendId } = await createQueue(relay.url);
    const refused = await postBytes(`${relay.url}/v1/send/${sendId}`, envelope(512));
    assert.equal(refused.status, 503, "clients try again, or another node");
    assert.equal(refused.json["code"], "busy");
    assert.deepEqual(await command(relay.url, signCommand(key, "fetch", queueId)), {
      status: 503,
      json: { code: "busy", error: "the relay cannot reach its database just now; try again" },
    });
    const ws = await openSocket(relay.url);
    t.after(() => ws.close());
    ws.send({ ...signCommand(key, "ack", queueId, { msgId: "AAAAAAAAAAAAAAAAAAAAAA" }), id: 1 });
    assert.equal((await ws.next(byId(1)))["code"], "busy");
    assert.match(logs.text(), /store unavailable/);
    assert.doesNotMatch(logs.text(), /internal error/);

    state.down = false;
    assert.equal(
      (await postBytes(`${relay.url}/v1/send/${sendId}`, envelope(512))).status,
      202,
      "and serves once it is back",
    );
  });

  it("answers internal errors without detail, logs them, and keeps serving", async (t) => {
    const logs = captureLogs();
    const store = brokenStore();
    t.after(() => store.close());
    const relay = await startTestRelay(t, { store, logger: logs.logger });
    const { key, queueId, sendId } = await createQueue(relay.url);
    assert.equal((await postBytes(`${relay.url}/v1/send/${sendId}`, envelope(512))).status, 202);

    const res = await command(relay.url, signCommand(key, "fetch", queueId));
    assert.deepEqual(res, { status: 500, json: { code: "internal", error: "internal error" } });

    const ws = await openSocket(relay.url);
    t.after(() => ws.close());
    ws.send({ ...signCommand(key, "ack", queueId, { msgId: "AAAAAAAAAAAAAAAAAAAAAA" }), id: 1 });
    assert.deepEqual(await ws.next(byId(1)), {
      type: "err",
      id: 1,
      code: "internal",
      error: "internal error",
    });
    ws.send({ ...signCommand(key, "sub", queueId), id: 2 });
    assert.deepEqual(await ws.next(byId(2)), { type: "ok", id: 2 }, "the socket carries on");

    assert.equal((await fetch(`${relay.url}/v1/health`)).status, 200);
    assert.match(logs.text(), /disk on fire/, "the failure is logged for the operator");
  });
});
