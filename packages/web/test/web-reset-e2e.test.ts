/**
 * Key reset in the web app (issue 13), in real headless Chromium against a real relay serving the
 * built app, with a CLI contact: a verified contact who resets shows the warning in the chat, the
 * composer stays disabled until "Accept the new safety number"; and "Reset my keys" in Settings
 * gives the web user new keys that the CLI contact follows (and tells them so).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import {
  browserSuiteUnavailable,
  CLI,
  eventually,
  parleyJson,
  type RelayProcess,
  startRelay,
  tempDir,
} from "./helpers.js";
import { webUserWithCliContact } from "./web-and-cli.js";

const unavailable = browserSuiteUnavailable();

describe("key reset in the web app", { skip: unavailable ? `skipped: ${unavailable}` : false }, () => {
  let relay: RelayProcess;
  let browser: Browser;
  let alice: Page;
  const bob = tempDir("reset-cli-bob");
  let problems: string[] = [];

  const log = () => alice.getByRole("log", { name: "Messages" });
  const composer = () => alice.getByRole("textbox", { name: "Message" });
  /** `parley sync --json`: its events other than messages (stderr, one JSON object a line). */
  function syncEvents(): { type: string; change?: string }[] {
    const r = spawnSync(process.execPath, [CLI, "--home", bob, "--json", "sync"], {
      encoding: "utf8",
      timeout: 60_000,
    });
    assert.equal(r.status, 0, r.stderr);
    return r.stderr
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l));
  }

  before(async () => {
    relay = await startRelay();
    ({ browser, page: alice, problems } = await webUserWithCliContact(relay, bob));
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await relay?.stop();
  });

  it("a verified contact resets: the chat says so, and nothing is sent until accepted", {
    timeout: 240_000,
  }, async () => {
    await alice.getByRole("button", { name: "Safety number" }).click();
    const safety = alice.getByRole("dialog", { name: "Safety number with Bob" });
    await safety.getByRole("button", { name: "Mark as verified" }).click();
    await safety.getByRole("button", { name: "Close" }).first().click();
    await alice.getByText("Verified contact").waitFor();

    await parleyJson(bob, "reset", "--yes");
    const warning = alice.getByRole("alert").filter({ hasText: "security key has changed" });
    await warning.waitFor();
    assert.ok(await composer().isDisabled(), "the composer is open before the change is accepted");
    await warning.getByRole("button", { name: "Accept the new safety number" }).click();
    await eventually(async () => ((await composer().isEnabled()) ? true : undefined));
    await composer().fill("Welcome back, Bob");
    await composer().press("Enter");
    await eventually(async () => {
      await parleyJson(bob, "sync");
      const texts = (await parleyJson<{ text: string }[]>(bob, "messages", "Alice")).map((m) => m.text);
      return texts.includes("Welcome back, Bob") ? true : undefined;
    });
  });

  it("Reset my keys in Settings: the contact follows the new keys and is told", {
    timeout: 240_000,
  }, async () => {
    await alice.getByRole("button", { name: "Settings" }).click();
    const settings = alice.getByRole("dialog", { name: "Settings" });
    await settings.getByText("If a device of yours was compromised").waitFor();
    await settings.getByRole("button", { name: "Reset my keys" }).click();
    await settings.getByRole("button", { name: "Yes, reset my keys" }).click();
    await settings.getByText("Your keys are new in every chat and group.").waitFor({ timeout: 120_000 });
    await settings.getByRole("button", { name: "Done" }).click();

    const events = syncEvents();
    assert.ok(
      events.some((e) => e.type === "contact" && e.change === "key-reset"),
      JSON.stringify(events),
    );
    await parleyJson(bob, "send", "Alice", "still me, and you are new");
    await log().getByText("still me, and you are new").waitFor();
    assert.deepEqual(problems, []);
  });
});
