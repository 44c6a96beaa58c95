/** The key-value store contract (@parley/core/testing) against the SQLite backend, reopened from its file. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import type { KeyValueStore } from "@parley/core";
import { keyValueStoreContract, searchContract } from "@parley/core/testing";
import { SqliteKeyValueStore } from "../src/index.js";

const dir = mkdtempSync(join(tmpdir(), "parley-node-contract-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const paths = new WeakMap<KeyValueStore, string>();
let n = 0;

describe("KeyValueStore contract: SQLite", () => {
  for (const c of [...keyValueStoreContract, ...searchContract]) {
    it(c.name, () =>
      c.run(
        async () => {
          const path = join(dir, `kv-${n++}.sqlite`);
          const store = new SqliteKeyValueStore(path);
          paths.set(store, path);
          return store;
        },
        async (store) => {
          await store.close();
          return new SqliteKeyValueStore(paths.get(store)!);
        },
      ),
    );
  }
});
