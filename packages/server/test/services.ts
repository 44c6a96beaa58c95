/**
 * The outside services some tests need: PostgreSQL (PARLEY_TEST_PG_URL, default
 * postgres://127.0.0.1:5432/test) and NATS (PARLEY_TEST_NATS_URL, default nats://127.0.0.1:4222).
 * Without one, those tests are skipped with a line saying why; with CI=true a missing service fails
 * the run instead (CI must have them).
 */
import { randomBytes } from "node:crypto";
import { userInfo } from "node:os";
import type { TestContext } from "node:test";
import { connect } from "nats";
import pg from "pg";

export const PG_URL =
  process.env.PARLEY_TEST_PG_URL ??
  `postgres://${process.env.PGUSER ?? userInfo().username}@127.0.0.1:5432/test`;
export const NATS_URL = process.env.PARLEY_TEST_NATS_URL ?? "nats://127.0.0.1:4222";

const probes = new Map<string, Promise<string | null>>();

/** Null when reachable, else why not. */
function probe(name: string, check: () => Promise<void>): Promise<string | null> {
  let p = probes.get(name);
  if (!p) {
    p = check().then(
      () => null,
      (e: unknown) => `${name} unreachable: ${(e as Error).message || String(e)}`,
    );
    probes.set(name, p);
  }
  return p;
}

export const postgresMissing = (): Promise<string | null> =>
  probe(`PostgreSQL at ${PG_URL}`, async () => {
    const c = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
    await c.connect();
    await c.query("SELECT 1");
    await c.end();
  });

export const natsMissing = (): Promise<string | null> =>
  probe(`NATS at ${NATS_URL}`, async () => {
    const nc = await connect({ servers: NATS_URL, timeout: 3000, reconnect: false });
    await nc.flush();
    await nc.close();
  });

/**
 * What `describe`/`it` take as `skip`: false when the services are there; the reason otherwise,
 * printed as a line. Under CI=true a missing service throws (the file fails).
 */
export async function skipUnless(...missing: (() => Promise<string | null>)[]): Promise<string | false> {
  const reasons = (await Promise.all(missing.map((m) => m()))).filter((r): r is string => r !== null);
  if (reasons.length === 0) return false;
  const why = reasons.join("; ");
  if (process.env.CI === "true") throw new Error(`CI=true and a service the tests need is missing: ${why}`);
  process.stdout.write(`# skipped: ${why}\n`);
  return why;
}

/** A fresh schema name, dropped (with everything in it) when the test ends. */
export function pgSchema(t: Pick<TestContext, "after">): string {
  const schema = `t_${randomBytes(6).toString("hex")}`;
  t.after(() => dropSchema(schema));
  return schema;
}

export async function dropSchema(schema: string): Promise<void> {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try {
    await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await c.end();
  }
}

export const pgUrlWithSchema = (schema: string): string => {
  const u = new URL(PG_URL);
  u.searchParams.set("schema", schema);
  return u.toString();
};

/** A fresh NATS subject prefix (nothing to clean up: core NATS keeps no subjects). */
export const natsPrefix = (): string => `t${randomBytes(6).toString("hex")}`;
