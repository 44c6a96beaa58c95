/**
 * Message search in the web app, in real headless Chromium against a real relay process serving the
 * built app, with a CLI user writing: the search box finds words (Chinese too) with the match marked,
 * opens the chat at the found message; an edit's old words and a deleted message are not found; the
 * index survives a reload behind the passphrase; IndexedDB holds none of the words in the clear
 * (the index is sealed like everything else); and the relay holds none of the words or searches.
 */
import assert from "node:assert/strict";
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type Browser, chromium, type Page } from "playwright-core";
import {
  browserSuiteUnavailable,
  CHROMIUM,
  CHROMIUM_ARGS,
  eventually,
  OUTPUT,
  parleyJson,
  type RelayProcess,
  startRelay,
  tempDir,
} from "./helpers.js";

const unavailable = browserSuiteUnavailable();
const PASS = "alice correct horse battery";

describe("searching messages in the web app", {
  skip: unavailable ? `skipped: ${unavailable}` : false,
}, () => {
  let relay: RelayProcess;
  let browser: Browser;
  let alice: Page;
  const bob = tempDir("search-bob");
  const problems: string[] = [];
  const ids: Record<string, string> = {};

  const searchBox = () => alice.getByRole("searchbox", { name: "Search messages" });
  const results = () => alice.getByRole("list", { name: "Found messages" });
  const log = () => alice.getByRole("log", { name: "Messages" });
  async function searchFor(text: string) {
    await searchBox().fill(text);
    // The results are for this query once the box has settled (the search runs after a pause).
    await alice.getByText("Searching…").waitFor({ state: "detached" });
  }
  async function bobSays(text: string) {
    ids[text] = (await parleyJson<{ id: string }>(bob, "send", "Alice", text)).id;
    await log().getByText(text, { exact: true }).waitFor();
  }

  before(async () => {
    relay = await startRelay();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    alice = await context.newPage();
    alice.setDefaultTimeout(30_000);
    alice.on("console", (msg) => {
      if (msg.type() === "error") problems.push(`console: ${msg.text()}`);
    });
    alice.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
    await alice.goto(`${relay.url}/`);
    await alice.getByLabel("Display name").fill("Alice");
    await alice.getByLabel("Passphrase", { exact: true }).fill(PASS);
    await alice.getByLabel("Confirm passphrase").fill(PASS);
    await alice.getByRole("button", { name: "Create profile" }).click();
    await alice.getByRole("button", { name: "Invite someone" }).click();
    const dialog = alice.getByRole("dialog", { name: "Invite someone" });
    const link = await dialog.getByLabel("Invite link").inputValue();
    await dialog.getByRole("button", { name: "Done" }).click();
    await parleyJson(bob, "init", "--name", "Bob", "--server", relay.url);
    await parleyJson(bob, "accept", link);
    const row = alice
      .getByRole("navigation", { name: "Conversations" })
      .getByRole("button", { name: /^Bob/ });
    await row.click();
    await eventually(async () => {
      await parleyJson(bob, "sync");
      const contacts = await parleyJson<{ canSend: boolean }[]>(bob, "contacts");
      return contacts[0]?.canSend ? true : undefined;
    });
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await relay?.stop();
  });

  it("finds words, Chinese too, marks them, and opens the chat at the message", {
    timeout: 180_000,
  }, async () => {
    await bobSays("Meet at the Harbour Café at noon");
    await bobSays("明天在港口咖啡馆见面");
    for (let i = 0; i < 12; i++) await parleyJson(bob, "send", "Alice", `filler message ${i}`);
    // Exact: a bubble's text runs on into its time ("…message 1" + "10:14 PM" holds "message 11").
    await log().getByText("filler message 11", { exact: true }).waitFor();

    await searchFor("harbour");
    const found = results().getByRole("button");
    assert.equal(await found.count(), 1);
    assert.equal(await results().locator("mark").textContent(), "Harbour");
    await results().getByText("Bob", { exact: true }).waitFor();
    await searchFor("咖啡");
    assert.equal(await results().locator("mark").textContent(), "咖啡");
    await searchFor("submarine");
    await alice.getByText("No messages found on this device.").waitFor();

    // Choosing a result opens the chat there: the found message is in view and marked.
    await searchFor("harbour café");
    mkdirSync(OUTPUT, { recursive: true });
    await alice.screenshot({ path: join(OUTPUT, "web-search.png") });
    await results().getByRole("button").click();
    const bubble = log().locator(`li[data-message-id="${ids["Meet at the Harbour Café at noon"]}"]`);
    await bubble.and(alice.locator(".found")).waitFor();
    assert.ok(await bubble.isVisible());
    const box = await bubble.boundingBox();
    const view = await log().boundingBox();
    assert.ok(box && view && box.y >= view.y && box.y + box.height <= view.y + view.height, "in view");
    // Escape empties the box: the conversation list is back.
    await searchBox().press("Escape");
    await alice.getByRole("navigation", { name: "Conversations" }).waitFor();
  });

  it("does not find an edit's old words or a deleted message", { timeout: 120_000 }, async () => {
    await parleyJson(
      bob,
      "edit",
      "Alice",
      ids["Meet at the Harbour Café at noon"]!,
      "Meet at the station at noon",
    );
    await parleyJson(bob, "delete-message", "Alice", ids["明天在港口咖啡馆见面"]!);
    await log().getByText("Meet at the station at noon").waitFor();
    await eventually(async () =>
      (await log().getByText("明天在港口咖啡馆见面").count()) === 0 ? true : undefined,
    );
    await searchFor("harbour");
    await alice.getByText("No messages found on this device.").waitFor();
    await searchFor("咖啡");
    await alice.getByText("No messages found on this device.").waitFor();
    await searchFor("station");
    assert.equal(await results().getByRole("button").count(), 1);
  });

  it("keeps its index across a reload, sealed: IndexedDB holds none of the words", {
    timeout: 90_000,
  }, async () => {
    await alice.reload();
    await alice.getByLabel("Passphrase", { exact: true }).fill(PASS);
    await alice.getByRole("button", { name: "Unlock" }).click();
    await searchFor("STATION");
    assert.equal(await results().getByRole("button").count(), 1);
    await searchFor("filler message 1");
    assert.equal(await results().getByRole("button").count(), 3, "1, 10 and 11");
    await searchFor("harbour");
    await alice.getByText("No messages found on this device.").waitFor();

    const raw = await alice.evaluate(async () => {
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const request = indexedDB.open("parley");
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
      });
      const store = db.transaction("kv").objectStore("kv");
      const read = <T>(request: IDBRequest<T>) =>
        new Promise<T>((resolve) => {
          request.onsuccess = () => resolve(request.result);
        });
      const keys = (await read(store.getAllKeys())) as string[];
      const values = (await read(store.getAll())) as Uint8Array[];
      db.close();
      return {
        keys,
        text: values
          .map((v) => Array.from(new Uint8Array(v), (b) => String.fromCharCode(b)).join(""))
          .join("\n"),
      };
    });
    assert.ok(
      raw.keys.some((k) => k.startsWith("!text/msg/")),
      "the index is there, under its own keys",
    );
    for (const word of ["station", "Station", "filler", "harbour", "Harbour", "港口", "咖啡"]) {
      assert.ok(!raw.text.includes(Buffer.from(word).toString("latin1")), `"${word}" is stored in the clear`);
      assert.ok(!raw.keys.some((k) => k.includes(word)), `"${word}" is in a key`);
    }
    assert.deepEqual(problems, []);
  });

  it("the relay holds none of the words nor the searches", async () => {
    await relay.stop();
    const files = readdirSync(relay.dataDir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => join(e.parentPath, e.name));
    assert.ok(files.length > 0);
    for (const file of files) {
      const bytes = readFileSync(file);
      for (const needle of [
        "Harbour",
        "harbour",
        "station",
        "STATION",
        "港口",
        "咖啡",
        "submarine",
        "filler",
      ])
        assert.equal(bytes.indexOf(Buffer.from(needle)), -1, `${needle} in ${file}`);
    }
    await relay.start();
  });
});
