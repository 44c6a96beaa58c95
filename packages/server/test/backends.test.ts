/** The relay opens its store and bus by URL; a new backend plugs in with one registration. */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { splitPostgresUrl } from "../src/backends.js";
import {
  BackendError,
  DATABASE_FILE,
  LocalBus,
  openBus,
  openStore,
  registerBusBackend,
  registerStoreBackend,
  SqliteStore,
  startRelay,
} from "../src/index.js";
import { createQueue, tempDir } from "./helpers.js";

describe("store and bus URLs", () => {
  it("opens sqlite:<dir> (creating the directory) and sqlite::memory:", async (t) => {
    const dir = join(tempDir(t), "nested", "data");
    const opened = await openStore(`sqlite:${dir}`);
    assert.equal(opened.location, dir);
    assert.equal(opened.dataDir, dir);
    assert.ok(existsSync(join(dir, DATABASE_FILE)));
    await opened.store.close();
    const again = await openStore(`sqlite:${dir}`, { readonly: true });
    await again.store.close();
    const memory = await openStore("sqlite::memory:");
    assert.equal(memory.dataDir, undefined);
    await memory.store.close();
  });

  it("refuses unknown schemes, text that is no URL, and a missing database read-only, clearly", async (t) => {
    await assert.rejects(openStore("mysql://db.example/parley"), (e: unknown) => {
      assert.ok(e instanceof BackendError);
      assert.match(e.message, /unknown store "mysql:".*known: sqlite:, postgres:, postgresql:/);
      return true;
    });
    // A known backend whose server cannot be reached: a BackendError naming it (no password shown).
    await assert.rejects(openStore("postgres://relay:hunter2@127.0.0.1:1/parley"), (e: unknown) => {
      assert.ok(e instanceof BackendError);
      assert.match(e.message, /cannot open postgres:\/\/relay:\*\*\*@127\.0\.0\.1:1\/parley/);
      assert.doesNotMatch(e.message, /hunter2/);
      return true;
    });
    await assert.rejects(openStore("./data"), /is not a URL.*known: sqlite:/);
    await assert.rejects(openStore("sqlite:"), /names no directory/);
    await assert.rejects(openStore(`sqlite:${tempDir(t)}/missing`, { readonly: true }), /no relay database/);
    await assert.rejects(
      openBus("amqp://localhost:5672"),
      /unknown bus "amqp:".*known: (nats:, local:|local:, nats:)/,
    );
    await assert.rejects(openBus("nats://127.0.0.1:1"), /cannot connect to nats:\/\/127\.0\.0\.1:1/);
    await assert.rejects(openBus("local:elsewhere"), /takes no address/);
    await assert.rejects(startRelay({ storeUrl: "mysql://x" }), BackendError);
  });

  it("reads a PostgreSQL URL's schema and pool size, which PostgreSQL itself never sees", () => {
    assert.deepEqual(
      splitPostgresUrl("postgres://relay@db.internal/parley?schema=parley_a&pool=4&sslmode=require"),
      {
        connectionString: "postgres://relay@db.internal/parley?sslmode=require",
        schema: "parley_a",
        poolSize: 4,
      },
    );
    assert.deepEqual(splitPostgresUrl("postgres://relay@db.internal/parley"), {
      connectionString: "postgres://relay@db.internal/parley",
    });
    for (const pool of ["0", "-1", "2.5", "many", "", "1001"])
      assert.throws(
        () => splitPostgresUrl(`postgres://relay:hunter2@db.internal/parley?pool=${pool}`),
        (e: unknown) =>
          e instanceof BackendError &&
          /pool must be a whole number of connections from 1 to 1000/.test(e.message) &&
          !e.message.includes("hunter2"),
        `pool=${pool}`,
      );
  });

  it("starts a relay on a registered backend, which it closes on close()", async () => {
    const events: string[] = [];
    registerStoreBackend("test-memory", (url) => {
      events.push(`store ${url}`);
      const store = SqliteStore.open(":memory:");
      const close = store.close.bind(store);
      store.close = async () => {
        events.push("store closed");
        await close();
      };
      return { store, location: "test" };
    });
    registerBusBackend("test-bus", (url) => {
      events.push(`bus ${url}`);
      const bus = new LocalBus();
      const close = bus.close.bind(bus);
      bus.close = async () => {
        events.push("bus closed");
        await close();
      };
      return bus;
    });
    const relay = await startRelay({ storeUrl: "test-memory:", busUrl: "test-bus://here" });
    assert.equal(relay.location, "test");
    await createQueue(relay.url);
    await relay.close();
    assert.deepEqual(events, ["store test-memory:", "bus test-bus://here", "bus closed", "store closed"]);
  });
});
