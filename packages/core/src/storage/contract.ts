/**
 * The key-value store contract: what every `KeyValueStore` backend must do, as one list of checks
 * run against each of them — memory and encrypted in core's tests, SQLite in @parley/node's, and
 * IndexedDB inside real Chromium in the web app's. It uses no test framework and no Node API, so
 * the same code runs in the browser; each runner wraps the cases in its own `it`.
 *
 * Exported as `@parley/core/testing`: test code, kept out of the main entry point.
 */
import type { KeyValueStore } from "./key-value-store.js";

export interface ContractCase<T> {
  name: string;
  /** `open` gives a fresh, empty store each call; `reopen` (where the backend persists) the same one again. */
  run(open: () => Promise<T>, reopen?: (store: T) => Promise<T>): Promise<void>;
}

class ContractFailure extends Error {
  override name = "ContractFailure";
}

const bytes = (...values: number[]) => new Uint8Array(values);
const text = (s: string) => new TextEncoder().encode(s);
const show = (v: unknown) =>
  JSON.stringify(v, (_k, x) => (x instanceof Uint8Array ? `bytes(${Array.from(x).join(",")})` : x));

function same(actual: unknown, expected: unknown, what: string): void {
  if (show(actual) !== show(expected)) {
    throw new ContractFailure(`${what}: expected ${show(expected)}, got ${show(actual)}`);
  }
}

async function rejects(promise: Promise<unknown>, what: string): Promise<void> {
  try {
    await promise;
  } catch {
    return;
  }
  throw new ContractFailure(`${what}: expected a rejection`);
}

/** Keys as strings only, values as their bytes: what list() returned, comparable with `same`. */
const entries = (list: [string, Uint8Array][]) => list.map(([k, v]) => [k, Array.from(v)]);

export const keyValueStoreContract: ContractCase<KeyValueStore>[] = [
  {
    name: "gets what was written, undefined for a missing key, and nothing after a delete",
    async run(open) {
      const store = await open();
      try {
        same(await store.get("a"), undefined, "missing key");
        await store.write([{ key: "a", value: bytes(1, 2, 3) }]);
        same(await store.get("a"), bytes(1, 2, 3), "written value");
        await store.write([{ key: "a", value: bytes(4) }]);
        same(await store.get("a"), bytes(4), "overwritten value");
        await store.write([{ key: "a", value: null }]);
        same(await store.get("a"), undefined, "deleted key");
        await store.write([{ key: "empty", value: new Uint8Array(0) }]);
        same(await store.get("empty"), new Uint8Array(0), "an empty value is a value");
      } finally {
        await store.close();
      }
    },
  },
  {
    name: "lists by prefix in key order (plain code-unit order), reversed and limited on request",
    async run(open) {
      const store = await open();
      try {
        // Written out of order; "msg/" keys with zero-padded numbers, neighbours that must not match.
        const keys = [
          "msg/0010",
          "msg/0002",
          "msg/0001",
          "msg0",
          "msf/9",
          "msg/",
          "mt",
          "msg/0100",
          "msg/Z",
          "msg/a",
        ];
        await store.write(keys.map((key, i) => ({ key, value: bytes(i) })));
        const listed = (await store.list("msg/")).map(([k]) => k);
        same(listed, ["msg/", "msg/0001", "msg/0002", "msg/0010", "msg/0100", "msg/Z", "msg/a"], "ascending");
        same(
          (await store.list("msg/", { reverse: true })).map(([k]) => k),
          ["msg/a", "msg/Z", "msg/0100", "msg/0010", "msg/0002", "msg/0001", "msg/"],
          "descending",
        );
        same(
          (await store.list("msg/", { limit: 2 })).map(([k]) => k),
          ["msg/", "msg/0001"],
          "first two",
        );
        same(
          (await store.list("msg/", { reverse: true, limit: 2 })).map(([k]) => k),
          ["msg/a", "msg/Z"],
          "last two",
        );
        same(entries(await store.list("msg/00", { limit: 1 })), [["msg/0001", [2]]], "values come along");
        same(await store.list("nothing/"), [], "no match");
        same((await store.list("")).length, keys.length, "the empty prefix lists everything");
      } finally {
        await store.close();
      }
    },
  },
  {
    name: "lists every key of a prefix whatever its characters, orders non-ASCII keys, and keeps any byte value",
    async run(open) {
      const store = await open();
      try {
        // Below U+D800 code-unit and code-point order agree (UTF-16 in JS and IndexedDB, UTF-8
        // bytes in SQLite); keys beyond that are listed, in an order the backends need not share.
        const keys = ["p/é", "p/z", "p/中", "p/~", "p/\u00ff"];
        await store.write([...keys, "p/\u{1F600}", "p/\uffef"].map((key) => ({ key, value: text(key) })));
        const listed = (await store.list("p/")).map(([k]) => k);
        same(
          listed.filter((k) => keys.includes(k)),
          [...keys].sort(),
          "order",
        );
        same(listed.length, keys.length + 2, "every key, an emoji and U+FFEF included");
        const all = new Uint8Array(256).map((_, i) => i);
        await store.write([{ key: "p/bytes", value: all }]);
        same(await store.get("p/bytes"), all, "every byte value");
      } finally {
        await store.close();
      }
    },
  },
  {
    name: "applies a batch as a whole: every write of it, in order, puts and deletes together",
    async run(open) {
      const store = await open();
      try {
        await store.write([
          { key: "x", value: bytes(1) },
          { key: "y", value: bytes(2) },
        ]);
        await store.write([
          { key: "x", value: null },
          { key: "z", value: bytes(3) },
          { key: "y", value: bytes(5) },
          { key: "y", value: bytes(6) }, // the later write of a key wins
        ]);
        same(
          entries(await store.list("")),
          [
            ["y", [6]],
            ["z", [3]],
          ],
          "after the batch",
        );
        await store.write([]);
        same((await store.list("")).length, 2, "an empty batch changes nothing");
      } finally {
        await store.close();
      }
    },
  },
  {
    name: "keeps no reference to a caller's buffer: changing it after a write or a read changes nothing stored",
    async run(open) {
      const store = await open();
      try {
        const value = bytes(1, 2, 3);
        await store.write([{ key: "k", value }]);
        value[0] = 9;
        same(await store.get("k"), bytes(1, 2, 3), "after changing the written buffer");
        const read = await store.get("k");
        read![1] = 9;
        same(await store.get("k"), bytes(1, 2, 3), "after changing a read buffer");
      } finally {
        await store.close();
      }
    },
  },
  {
    name: "keeps what was written across close and reopen",
    async run(open, reopen) {
      if (!reopen) return; // a backend that keeps nothing (memory) has nothing to keep
      const store = await open();
      await store.write([
        { key: "keep/1", value: bytes(1) },
        { key: "keep/2", value: bytes(2) },
        { key: "gone", value: bytes(3) },
      ]);
      await store.write([{ key: "gone", value: null }]);
      const again = await reopen(store);
      try {
        same(
          entries(await again.list("")),
          [
            ["keep/1", [1]],
            ["keep/2", [2]],
          ],
          "after reopening",
        );
      } finally {
        await again.close();
      }
    },
  },
  {
    name: "durable resolves after writes, before and during other writes, many at once, and when nothing was written",
    async run(open) {
      const store = await open();
      try {
        await store.durable(); // nothing written yet
        await store.write([{ key: "d/1", value: bytes(1) }]);
        await store.durable();
        // Waits asked for together, with writes between them: all resolve, and nothing is lost.
        const waits: Promise<void>[] = [];
        for (let i = 2; i <= 20; i++) {
          await store.write([{ key: `d/${String(i).padStart(2, "0")}`, value: bytes(i) }]);
          waits.push(store.durable());
        }
        await Promise.all(waits);
        await store.durable();
        same((await store.list("d/")).length, 20, "entries after the waits");
      } finally {
        await store.close();
      }
    },
  },
  {
    name: "refuses to work once closed",
    async run(open) {
      const store = await open();
      await store.write([{ key: "k", value: bytes(1) }]);
      await store.close();
      await rejects(store.write([{ key: "k", value: bytes(2) }]), "write after close");
    },
  },
];

/**
 * The search contract (KeyValueStore.search, KvWrite.text), for backends that search: memory,
 * encrypted (over memory in core, over IndexedDB in Chromium) and SQLite's FTS5.
 */
export const searchContract: ContractCase<KeyValueStore>[] = [
  {
    name: "search finds any part of the text, whatever the case or width, Chinese too, newest key first",
    async run(open) {
      const store = await open();
      try {
        const search = requireSearch(store);
        await store.write([
          { key: "msg/a/001", value: bytes(1), text: "Lunch at the Café tomorrow?" },
          { key: "msg/a/002", value: bytes(2), text: "我们明天一起吃午饭吧" },
          { key: "msg/b/003", value: bytes(3), text: "ＬＵＮＣＨ is ready: 50% off *today* [really]?" },
          { key: "msg/b/004", value: bytes(4) }, // no text: never found
          { key: "other/005", value: bytes(5), text: "lunch elsewhere" },
        ]);
        same(await search("msg/", "lunch", 10), ["msg/b/003", "msg/a/001"], "case and width");
        same(await search("msg/", "café", 10), ["msg/a/001"], "accented");
        same(await search("msg/", "午饭", 10), ["msg/a/002"], "two Chinese characters");
        same(await search("msg/", "明天一起", 10), ["msg/a/002"], "four Chinese characters");
        same(await search("msg/", "50%", 10), ["msg/b/003"], "a percent sign is itself");
        same(await search("msg/", "*today*", 10), ["msg/b/003"], "stars are themselves");
        same(await search("msg/", "[really]?", 10), ["msg/b/003"], "brackets and ? are themselves");
        same(await search("msg/", "l_nch", 10), [], "an underscore is itself");
        same(await search("msg/", "lu*ch", 10), [], "a star matches only a star");
        same(await search("msg/a/", "lunch", 10), ["msg/a/001"], "within a prefix");
        same(await search("msg/", "lunch", 1), ["msg/b/003"], "limited");
        same(await search("msg/", "dinner", 10), [], "nothing");
        same(
          entries(await store.list("")).map(([k]) => k),
          ["msg/a/001", "msg/a/002", "msg/b/003", "msg/b/004", "other/005"],
          "the index is not listed as entries",
        );
      } finally {
        await store.close();
      }
    },
  },
  {
    name: "search forgets a deleted entry's text, and an entry's old text once it is replaced or taken away",
    async run(open) {
      const store = await open();
      try {
        const search = requireSearch(store);
        await store.write([
          { key: "m/1", value: bytes(1), text: "the old words" },
          { key: "m/2", value: bytes(2), text: "words to delete" },
          { key: "m/3", value: bytes(3), text: "words taken away" },
        ]);
        await store.write([
          { key: "m/1", value: bytes(11), text: "the new text" },
          { key: "m/2", value: null },
          { key: "m/3", value: bytes(33), text: null },
        ]);
        same(await search("m/", "words", 10), [], "old, deleted and taken-away words");
        same(await search("m/", "new text", 10), ["m/1"], "the replacement");
        await store.write([{ key: "m/1", value: bytes(12) }]); // no `text`: what it had stays
        same(await search("m/", "new text", 10), ["m/1"], "kept by a write without text");
        await store.write([{ key: "m/2", value: bytes(2) }]);
        same(await search("m/", "delete", 10), [], "a deleted entry written again without text");
      } finally {
        await store.close();
      }
    },
  },
  {
    name: "search finds what was indexed before a close and reopen, and not what was removed",
    async run(open, reopen) {
      if (!reopen) return;
      const store = await open();
      await store.write([
        { key: "m/1", value: bytes(1), text: "kept across a restart" },
        { key: "m/2", value: bytes(2), text: "removed before it" },
      ]);
      await store.write([{ key: "m/2", value: bytes(2), text: null }]);
      const again = await reopen(store);
      try {
        const search = requireSearch(again);
        same(await search("m/", "restart", 10), ["m/1"], "after reopening");
        same(await search("m/", "removed", 10), [], "removed text after reopening");
      } finally {
        await again.close();
      }
    },
  },
];

function requireSearch(store: KeyValueStore): NonNullable<KeyValueStore["search"]> {
  const search = store.search?.bind(store);
  if (!search) throw new ContractFailure("this backend has no search");
  return search;
}
