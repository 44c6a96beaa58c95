/**
 * Local search at the store level (client/search.ts, store/repository.ts): which words of a message
 * record are searchable, and the schema-5 migration that indexes a profile's existing history.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { nobleCryptoProvider as crypto } from "../src/crypto/noble-provider.js";
import { MemoryKeyValueStore } from "../src/storage/memory-store.js";
import { json } from "../src/store/batch.js";
import { Keys } from "../src/store/keys.js";
import { migrate } from "../src/store/migrations.js";
import type { MessageRecord } from "../src/store/records.js";
import { ProfileRepository, searchableText } from "../src/store/repository.js";

const message = (key: string, text: string, extra: Partial<MessageRecord> = {}): MessageRecord => ({
  id: `id-${key}`,
  conversationId: "conv",
  fromMe: false,
  senderIdentity: "someone",
  text,
  sentAt: 1000,
  receivedAt: 1001,
  status: "received",
  key,
  ...extra,
});

describe("searchable text of a message", () => {
  it("is its text and its file's name; none once deleted for everyone, none when empty", () => {
    assert.equal(searchableText(message("1", "hello")), "hello");
    const file = { name: "plan.pdf", size: 1, blob: "b", key: "k", hash: "h" } as never;
    assert.equal(searchableText(message("2", "the plan", { file })), "the plan\nplan.pdf");
    assert.equal(searchableText(message("3", "", { file })), "plan.pdf");
    assert.equal(searchableText(message("4", "", { deleted: 2000 })), null);
    assert.equal(searchableText(message("5", "")), null);
  });
});

describe("searching every conversation", () => {
  it("gives the newest first by time, whatever the conversations' ids, then limits", async () => {
    const store = new MemoryKeyValueStore();
    const repo = new ProfileRepository(store);
    const batch = repo.batch();
    // "zz…" sorts after "aa…": by key alone its older message would come first.
    repo.putMessage(batch, message("000000000001000-old", "ferry at one", { conversationId: "zz" }));
    repo.putMessage(batch, message("000000000003000-new", "ferry at three", { conversationId: "aa" }));
    repo.putMessage(batch, message("000000000002000-mid", "ferry at two", { conversationId: "mm" }));
    await repo.commit(batch);
    assert.deepEqual(
      (await repo.searchMessages("ferry", undefined, 10))?.map((m) => m.text),
      ["ferry at three", "ferry at two", "ferry at one"],
    );
    assert.deepEqual(
      (await repo.searchMessages("ferry", undefined, 2))?.map((m) => m.text),
      ["ferry at three", "ferry at two"],
    );
  });
});

describe("schema 5: existing history becomes searchable", () => {
  it("indexes every message a version-4 profile holds", async () => {
    const store = new MemoryKeyValueStore();
    // A version-4 profile: history written before search existed (no KvWrite.text).
    await store.write([
      { key: Keys.schema, value: json({ version: 4 }) },
      { key: Keys.profile, value: json({ v: 1 }) },
      { key: Keys.message("conv", "0001"), value: json(message("0001", "see you at the harbour")) },
      { key: Keys.message("conv", "0002"), value: json(message("0002", "", { deleted: 3000 })) },
      { key: Keys.message("other", "0003"), value: json(message("0003", "港口见")) },
    ]);
    assert.deepEqual(await store.search("msg/", "harbour", 10), [], "not searchable before");
    assert.equal(await migrate(store, { crypto }), 4);
    const repo = new ProfileRepository(store);
    assert.deepEqual(
      (await repo.searchMessages("HARBOUR", undefined, 10))?.map((m) => m.id),
      ["id-0001"],
    );
    assert.deepEqual(
      (await repo.searchMessages("港口", "other", 10))?.map((m) => m.id),
      ["id-0003"],
    );
    assert.deepEqual(await repo.searchMessages("港口", "conv", 10), [], "within one conversation");
    assert.deepEqual(
      (await store.list("msg/")).map(([k]) => k),
      ["msg/conv/0001", "msg/conv/0002", "msg/other/0003"],
      "records unchanged",
    );
  });
});
