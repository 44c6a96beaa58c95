import type Database from "better-sqlite3";
import { migrations as all, type Migration } from "./migrations/index.js";

export class SchemaError extends Error {
  override name = "SchemaError";
}

export const schemaVersion = (db: Database.Database): number =>
  db.pragma("user_version", { simple: true }) as number;

/** Applies every migration the database lacks, each in its own transaction. Returns the new version. */
export function migrate(db: Database.Database, migrations: readonly Migration[] = all): number {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1)
      throw new SchemaError(`migration ${m.name} is numbered ${m.version}, expected ${i + 1}`);
  });
  const current = schemaVersion(db);
  if (current > migrations.length) {
    throw new SchemaError(
      `the database has schema version ${current}, newer than this relay knows (${migrations.length}): upgrade parley-server`,
    );
  }
  for (const m of migrations.slice(current)) {
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    })();
  }
  return migrations.length;
}

/** For read-only use (disclose): refuses a database this relay version would have to migrate. */
export function checkSchema(db: Database.Database, migrations: readonly Migration[] = all): void {
  const current = schemaVersion(db);
  if (current !== migrations.length) {
    throw new SchemaError(
      `the database has schema version ${current}, this relay expects ${migrations.length}: ` +
        (current < migrations.length ? "start the relay once to migrate it" : "upgrade parley-server"),
    );
  }
}
