/**
 * Read receipts and typing indicators in the web app, in real headless Chromium against a real
 * relay process serving the built app, with a CLI user: our message's ticks go to "Read" when the
 * contact reads it; their typing shows "typing…" in the chat's header, then goes; ours reaches them;
 * reading a chat that is open sends a read receipt, until "Send read receipts" is unchecked for that
 * person; and the relay holds none of it in the clear.
 */
import assert from "node:assert/strict";
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { runCli } from "@parley/testkit";
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

interface Msg {
  text: string;
  readBy?: { name: string | null }[];
}

describe("read receipts and typing in the web app", {
  skip: unavailable ? `skipped: ${unavailable}` : false,
}, () => {
  let relay: RelayProcess;
  let browser: Browser;
  let alice: Page;
  const bob = tempDir("rr-bob");
  const problems: string[] = [];

  const log = () => alice.getByRole("log", { name: "Messages" });
  const composer = () => alice.getByRole("textbox", { name: "Message" });
  const status = (text: string) =>
    log()
      .locator("li.message")
      .filter({ has: alice.locator("p.text", { hasText: text }) })
      .locator(".status");
  /** Bob's `sync --json`: the events other than messages. */
  async function bobEvents(): Promise<{ type: string; typing?: boolean; by?: { name: string } }[]> {
    const r = await runCli(bob, ["--json", "sync"]);
    assert.equal(r.code, 0, r.stderr);
    return r.stderr
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l));
  }
  const readBy = async (text: string) =>
    (await parleyJson<Msg[]>(bob, "messages", "Alice"))
      .find((m) => m.text === text)
      ?.readBy?.map((p) => p.name);

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
    await alice
      .getByRole("navigation", { name: "Conversations" })
      .getByRole("button", { name: /^Bob/ })
      .click();
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

  it("ticks: sent, delivered, then Read once Bob reads", { timeout: 120_000 }, async () => {
    await composer().fill("Are you coming tonight?");
    await composer().press("Enter");
    await status("Are you coming tonight?")
      .filter({ hasText: /Sent|Delivered/ })
      .waitFor();
    await parleyJson(bob, "sync");
    await status("Are you coming tonight?").filter({ hasText: "Delivered" }).waitFor();
    assert.equal(await status("Are you coming tonight?").locator(".ticks").textContent(), "✓✓ ");
    await parleyJson(bob, "read", "Alice");
    await status("Are you coming tonight?").filter({ hasText: "Read" }).waitFor();
    assert.ok(await status("Are you coming tonight?").evaluate((e) => e.classList.contains("status-read")));
    mkdirSync(OUTPUT, { recursive: true });
    await alice.screenshot({ path: join(OUTPUT, "web-read-receipt.png") });
  });

  it("typing: Bob's shows in the header and goes; Alice's reaches Bob", { timeout: 120_000 }, async () => {
    await parleyJson(bob, "typing", "Alice");
    const typing = alice.locator(".chat-head .typing", { hasText: "typing…" });
    await typing.waitFor();
    await typing.waitFor({ state: "detached", timeout: 15_000 });

    await composer().pressSequentially("On my w", { delay: 30 });
    await eventually(
      async () =>
        (await bobEvents()).some((e) => e.type === "typing" && e.typing && e.by?.name === "Alice")
          ? true
          : undefined,
      30_000,
      "Alice's typing indicator at Bob",
    );
    await composer().fill("");
  });

  it("reading an open chat sends a read receipt, until it is switched off for Bob", {
    timeout: 150_000,
  }, async () => {
    await parleyJson(bob, "send", "Alice", "Yes, at eight");
    await log().getByText("Yes, at eight").waitFor();
    await eventually(
      async () => {
        await parleyJson(bob, "sync");
        return (await readBy("Yes, at eight"))?.includes("Alice") ? true : undefined;
      },
      30_000,
      "Alice's read receipt at Bob",
    );

    await alice.getByRole("button", { name: "Contact", exact: true }).click();
    const dialog = alice.getByRole("dialog", { name: "Contact" });
    const box = dialog.getByRole("checkbox", { name: "Send read receipts" });
    assert.equal(await box.isChecked(), true, "on by default in a chat");
    await box.click(); // a controlled box: it changes once the setting is saved
    await eventually(async () => ((await box.isChecked()) ? undefined : true));
    await dialog.getByRole("button", { name: "Close" }).click();

    await parleyJson(bob, "send", "Alice", "See you there");
    await log().getByText("See you there").waitFor();
    await new Promise((r) => setTimeout(r, 2000));
    await parleyJson(bob, "sync");
    assert.equal(await readBy("See you there"), undefined, "no read receipt once switched off");
    assert.deepEqual(problems, []);
  });

  it("the relay holds none of it in the clear", async () => {
    await relay.stop();
    const files = readdirSync(relay.dataDir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => join(e.parentPath, e.name));
    assert.ok(files.length > 0);
    for (const file of files) {
      const bytes = readFileSync(file);
      for (const needle of ['"read"', '"typing"', "coming tonight", "at eight", "See you there"])
        assert.equal(bytes.indexOf(Buffer.from(needle)), -1, `${needle} in ${file}`);
    }
    await relay.start();
  });
});
