import assert from "node:assert/strict";
import { describe, it } from "node:test";
import pg from "pg";
import { openStore } from "../src/backends.js";
import { pgMigrations } from "../src/store/postgres/migrations.js";
import { PgSchemaError, PostgresStore } from "../src/store/postgres/postgres-store.js";
import { blobIndexContract } from "./blob-store-contract.js";
import { newKey, stored } from "./helpers.js";
import { PG_URL, pgSchema, pgUrlWithSchema, postgresMissing, skipUnless } from "./services.js";
import { storeContract } from "./store-contract.js";

const skip = await skipUnless(postgresMissing);

if (!skip) {
  // Every test in a schema of its own, dropped afterwards.
  storeContract("PostgreSQL", async (t) => {
    const store = await PostgresStore.open(PG_URL, { schema: pgSchema(t) });
    t.after(() => store.close());
    return store;
  });
  // Blob metadata, on the same schema-per-test footing.
  blobIndexContract("PostgreSQL", async (t) => {
    const store = await PostgresStore.open(PG_URL, { schema: pgSchema(t) });
    t.after(() => store.close());
    return store.blobs;
  });
}

describe("PostgresStore specifics", { skip }, () => {
  it("keeps at most ?pool=N connections, so nodes × pool can stay under max_connections", async (t) => {
    const u = new URL(pgUrlWithSchema(pgSchema(t)));
    u.searchParams.set("pool", "2");
    const opened = await openStore(u.toString());
    t.after(() => opened.store.close());
    const q = await opened.store.createQueue(newKey().publicKey, Date.now() + 3_600_000);
    await Promise.all(Array.from({ length: 20 }, () => opened.store.queueUsage(q.queueId)));
    assert.equal(opened.gauges?.()["pg_pool_connections"], 2, "20 queries at once on 2 connections");
  });

  it("migrates once when several nodes start at once, and refuses a newer schema", async (t) => {
    const schema = pgSchema(t);
    const stores = await Promise.all(
      Array.from({ length: 5 }, () => PostgresStore.open(PG_URL, { schema, poolSize: 2 })),
    );
    t.after(() => Promise.all(stores.map((s) => s.close())));
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    t.after(() => c.end());
    const v = await c.query(`SELECT version FROM ${schema}.parley_schema`);
    assert.deepEqual(v.rows, [{ version: pgMigrations.length }]);
    // All of them use the same tables.
    const q = await stores[0]!.createQueue(newKey().publicKey, Date.now() + 1e8);
    await stored(stores[1]!.enqueue(q.sendId, new Uint8Array(512), Date.now() + 1e8));
    assert.equal((await stores[2]!.fetchPending(q.queueId, { limit: 10 })).length, 1);

    await c.query(`UPDATE ${schema}.parley_schema SET version = 99`);
    await assert.rejects(PostgresStore.open(PG_URL, { schema }), PgSchemaError);
    await assert.rejects(PostgresStore.open(PG_URL, { schema, readonly: true }), PgSchemaError);
  });

  it("opens read-only without creating anything", async (t) => {
    const schema = pgSchema(t);
    await assert.rejects(PostgresStore.open(PG_URL, { schema, readonly: true }), /start the relay once/);
  });

  it("gives positions in commit order when many senders on many connections write one queue", async (t) => {
    const schema = pgSchema(t);
    const a = await PostgresStore.open(PG_URL, { schema, poolSize: 8 });
    const b = await PostgresStore.open(PG_URL, { schema, poolSize: 8 });
    t.after(() => Promise.all([a.close(), b.close()]));
    const q = await a.createQueue(newKey().publicKey, Date.now() + 1e8);
    const limits = { maxMessages: 150, maxBytes: 1 << 30 };
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        (i % 2 ? a : b).enqueue(q.sendId, new Uint8Array(512), Date.now() + 1e8, limits),
      ),
    );
    assert.equal(results.filter((r) => r.status === "stored").length, 150, "the cap holds across nodes");
    assert.deepEqual(await a.queueUsage(q.queueId), { messages: 150, bytes: 150 * 512 });
    const all = await b.fetchPending(q.queueId, { limit: 1000 });
    assert.equal(all.length, 150);
    assert.equal(new Set(all.map((m) => m.seq)).size, 150);
  });

  it("keeps a body up to the relay's message cap (8 MiB) as it was", async (t) => {
    const store = await PostgresStore.open(PG_URL, { schema: pgSchema(t) });
    t.after(() => store.close());
    const q = await store.createQueue(newKey().publicKey, Date.now() + 1e8);
    const body = new Uint8Array(8 * 1024 * 1024);
    for (let i = 0; i < body.length; i += 4096) body[i] = i % 251;
    await stored(store.enqueue(q.sendId, body, Date.now() + 1e8));
    const [m] = await store.fetchPending(q.queueId, { limit: 1 });
    assert.ok(Buffer.from(m!.body).equals(Buffer.from(body)));
  });

  it("gives the sweep lease to one caller per period", async (t) => {
    const schema = pgSchema(t);
    const a = await PostgresStore.open(PG_URL, { schema });
    const b = await PostgresStore.open(PG_URL, { schema });
    t.after(() => Promise.all([a.close(), b.close()]));
    const now = 1_000_000;
    const first = await Promise.all([a.claimLease("sweep", now, 60_000), b.claimLease("sweep", now, 60_000)]);
    assert.deepEqual(first.sort(), [false, true]);
    assert.equal(await a.claimLease("sweep", now + 59_999, 60_000), false);
    assert.equal(await b.claimLease("sweep", now + 60_000, 60_000), true, "lapsed: the next period's");
  });

  it("is opened by URL, the schema named in it, and the ready line shows no password", async (t) => {
    const schema = pgSchema(t);
    const opened = await openStore(pgUrlWithSchema(schema));
    t.after(() => opened.store.close());
    await opened.probe?.();
    assert.ok(opened.claimLease);
    assert.doesNotMatch(opened.location, /secret/);
    const withPassword = new URL(pgUrlWithSchema(schema));
    withPassword.password = "secret";
    // Trust authentication here: the password is not needed, only never shown.
    const again = await openStore(withPassword.toString());
    t.after(() => again.store.close());
    assert.match(again.location, /\*\*\*/);
    assert.doesNotMatch(again.location, /secret/);
  });
});
