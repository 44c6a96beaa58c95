import type { Migration } from "./index.js";

/**
 * Large bodies live in files beside the database (see ../body-files.ts): `body_file` names the
 * file (a random id; NULL when the body is in `body`, which is then empty), and `size` is the
 * body's length wherever it is, so quotas, read-ahead budgets and counters never need the body.
 *
 * What they reveal: nothing new. Sizes were visible as `length(body)`; the file name is random and
 * names nothing else.
 *
 * The partial index serves the lookups by file (the orphan check at start) and costs nothing for
 * the many small messages kept inline.
 */
export const m0005BodyFiles: Migration = {
  version: 5,
  name: "body_files",
  sql: `
ALTER TABLE messages ADD COLUMN body_file TEXT;
ALTER TABLE messages ADD COLUMN size INTEGER NOT NULL DEFAULT 0;
UPDATE messages SET size = length(body);
CREATE UNIQUE INDEX messages_body_file ON messages (body_file) WHERE body_file IS NOT NULL;
`,
};
