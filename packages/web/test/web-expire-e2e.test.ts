/**
 * Disappearing messages in the web app (issue 13), in real headless Chromium against a real relay
 * serving the built app, with a CLI contact: the timer chosen in the contact's settings reaches the
 * CLI side, the chat header says it, and a message vanishes from the open chat (and from the CLI
 * contact's store) once older than the timer.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import {
  browserSuiteUnavailable,
  eventually,
  parleyJson,
  type RelayProcess,
  startRelay,
  tempDir,
} from "./helpers.js";
import { webUserWithCliContact } from "./web-and-cli.js";

const unavailable = browserSuiteUnavailable();

describe("disappearing messages in the web app", {
  skip: unavailable ? `skipped: ${unavailable}` : false,
}, () => {
  let relay: RelayProcess;
  let browser: Browser;
  let alice: Page;
  const bob = tempDir("expire-cli-bob");
  let problems: string[] = [];

  before(async () => {
    relay = await startRelay();
    ({ browser, page: alice, problems } = await webUserWithCliContact(relay, bob));
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await relay?.stop();
  });

  it("30 seconds, chosen in the contact's settings: the message goes on both sides", {
    timeout: 240_000,
  }, async () => {
    await parleyJson(bob, "send", "Alice", "before the timer");
    const log = alice.getByRole("log", { name: "Messages" });
    await log.getByText("before the timer").waitFor();

    await alice.getByRole("button", { name: "Contact", exact: true }).click();
    const contact = alice.getByRole("dialog", { name: "Contact", exact: true });
    await contact.getByLabel("Disappearing messages").selectOption("30");
    await alice.getByText("Messages disappear after 30 seconds").waitFor();
    await contact.getByRole("button", { name: "Close" }).first().click();

    const seen = await eventually(async () => {
      await parleyJson(bob, "sync");
      const views = await parleyJson<{ name: string; expireAfter: number | null }[]>(bob, "conversations");
      return views.find((v) => v.name === "Alice")?.expireAfter === 30 ? true : undefined;
    });
    assert.equal(seen, true);
    await parleyJson(bob, "send", "Alice", "this one vanishes");
    await log.getByText("this one vanishes").waitFor();
    // Gone from the open chat once older than 30 s (the sweep runs while Parley is open).
    await log.getByText("this one vanishes").waitFor({ state: "detached", timeout: 90_000 });
    assert.ok(
      await log.getByText("before the timer").isVisible(),
      "a message from before the timer went too",
    );
    const bobs = (await parleyJson<{ text: string }[]>(bob, "messages", "Alice")).map((m) => m.text);
    assert.deepEqual(bobs, ["before the timer"]);
    assert.deepEqual(problems, []);
  });
});
