/**
 * Replies, reactions, edits, deletions and @mentions in the web app, in real headless Chromium
 * against a real relay process serving the built app: two browser users and a CLI user. Hover
 * actions on a bubble, the quote above the composer and in the bubble, the reaction picker and
 * counts, "edited" and "deleted" marks, mention autocomplete and highlight; screenshots in
 * test-output/; and the relay's data afterwards holds none of the text, emoji or names.
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

describe("replies, reactions, edits, deletions and mentions in the web app", {
  skip: unavailable ? `skipped: ${unavailable}` : false,
}, () => {
  let relay: RelayProcess;
  let browser: Browser;
  let alice: Page;
  let bob: Page;
  const carol = tempDir("cli-carol");
  const problems: string[] = [];

  async function userPage(name: string, passphrase: string): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    page.setDefaultTimeout(30_000);
    page.on("console", (msg) => {
      if (msg.type() === "error") problems.push(`${name} console: ${msg.text()}`);
    });
    page.on("pageerror", (e) => problems.push(`${name} pageerror: ${e.message}`));
    await page.goto(`${relay.url}/`);
    await page.getByLabel("Display name").fill(name);
    await page.getByLabel("Passphrase", { exact: true }).fill(passphrase);
    await page.getByLabel("Confirm passphrase").fill(passphrase);
    await page.getByRole("button", { name: "Create profile" }).click();
    await page.getByRole("button", { name: "Invite someone" }).waitFor();
    return page;
  }

  async function invite(page: Page): Promise<string> {
    await page.getByRole("button", { name: "Invite someone" }).click();
    const dialog = page.getByRole("dialog", { name: "Invite someone" });
    const link = await dialog.getByLabel("Invite link").inputValue();
    await dialog.getByRole("button", { name: "Done" }).click();
    return link;
  }

  const log = (page: Page) => page.getByRole("log", { name: "Messages" });
  const composer = (page: Page) => page.getByRole("textbox", { name: "Message" });
  /** The message whose own text (not a quote in it) holds `text`. */
  const bubble = (page: Page, text: string) =>
    log(page)
      .locator("li.message")
      .filter({ has: page.locator("p.text", { hasText: text }) });
  const chatRow = (page: Page, name: string) =>
    page
      .getByRole("navigation", { name: "Conversations" })
      .getByRole("button", { name: new RegExp(`^${name}`) });
  async function open(page: Page, name: string) {
    await chatRow(page, name).click();
    await page.getByRole("heading", { level: 2, name }).waitFor();
  }
  /** Hovers a message and clicks one of its actions. */
  async function act(page: Page, text: string, action: string) {
    const b = bubble(page, text);
    await b.locator(".bubble").hover();
    await b.getByRole("toolbar", { name: "Message actions" }).getByRole("button", { name: action }).click();
  }
  async function shoot(page: Page, name: string) {
    mkdirSync(OUTPUT, { recursive: true });
    await page.screenshot({ path: join(OUTPUT, name) });
  }

  before(async () => {
    relay = await startRelay();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    alice = await userPage("Alice", "alice correct horse battery");
    bob = await userPage("Bob", "bob purple elephant staple");
    const link = await invite(alice);
    await bob.getByRole("button", { name: "Add contact" }).click();
    const add = bob.getByRole("dialog", { name: "Add contact" });
    await add.getByLabel("Invite link").fill(link);
    await add.getByRole("button", { name: "Add contact" }).click();
    await bob.getByRole("heading", { level: 2, name: "Alice" }).waitFor();
    await chatRow(alice, "Bob").waitFor();
    // Carol uses the CLI.
    await parleyJson(carol, "init", "--name", "Carol", "--server", relay.url);
    await parleyJson(carol, "accept", await invite(alice));
    await chatRow(alice, "Carol").waitFor();
    await eventually(async () => {
      await parleyJson(carol, "sync");
      const contacts = await parleyJson<{ canSend: boolean }[]>(carol, "contacts");
      return contacts[0]?.canSend ? true : undefined;
    });
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await relay?.stop();
  });

  it("1:1: reply with a quote, react, edit and delete for everyone", { timeout: 180_000 }, async () => {
    await open(alice, "Bob");
    await composer(alice).fill("Lunch at noon?");
    await composer(alice).press("Enter");
    await open(bob, "Alice");
    await bubble(bob, "Lunch at noon?").waitFor();

    // Reply: the quote is above the composer, then in both bubbles.
    await act(bob, "Lunch at noon?", "Reply");
    await bob.getByText("Replying to Alice").waitFor();
    await composer(bob).fill("Yes, see you there");
    await composer(bob).press("Enter");
    const reply = bubble(alice, "Yes, see you there");
    await reply.locator("blockquote.quote", { hasText: "Lunch at noon?" }).waitFor();
    await reply.locator(".quote-who", { hasText: "You" }).waitFor();
    assert.equal(await bob.getByText("Replying to Alice").count(), 0, "the reply context closes once sent");

    // React: Bob picks 👍, Alice adds hers by tapping the count.
    await act(bob, "Lunch at noon?", "React");
    await bob
      .getByRole("menu", { name: "Pick a reaction" })
      .getByRole("menuitemradio", { name: "React with 👍" })
      .click();
    await bubble(bob, "Lunch at noon?").getByRole("button", { name: "👍 1, including you" }).waitFor();
    const chip = bubble(alice, "Lunch at noon?").getByRole("button", { name: "👍 1" });
    await chip.click();
    await bubble(alice, "Lunch at noon?").getByRole("button", { name: "👍 2, including you" }).waitFor();
    await bubble(bob, "Lunch at noon?").getByRole("button", { name: "👍 2, including you" }).waitFor();

    // Only our own messages offer Edit and Delete.
    await bubble(bob, "Lunch at noon?").locator(".bubble").hover();
    assert.equal(await bubble(bob, "Lunch at noon?").getByRole("button", { name: "Edit" }).count(), 0);
    assert.equal(await bubble(bob, "Lunch at noon?").getByRole("button", { name: "Delete" }).count(), 0);

    // Edit: the text goes into the composer, Save sends it; both sides show "edited", the quote follows.
    await act(alice, "Lunch at noon?", "Edit");
    await alice.getByText("Editing your message").waitFor();
    assert.equal(await composer(alice).inputValue(), "Lunch at noon?");
    await composer(alice).fill("Lunch at one instead?");
    await alice.getByRole("button", { name: "Save" }).click();
    await bubble(bob, "Lunch at one instead?").getByText("edited", { exact: true }).waitFor();
    await bubble(bob, "Yes, see you there")
      .locator("blockquote", { hasText: "Lunch at one instead?" })
      .waitFor();
    await bubble(alice, "Lunch at one instead?").getByText("edited", { exact: true }).waitFor();
    await alice.setViewportSize({ width: 1280, height: 800 });
    await bubble(alice, "Lunch at one instead?").locator(".bubble").hover();
    await shoot(alice, "web-message-actions-alice.png");
    await shoot(bob, "web-message-actions-bob.png");
    await bob.setViewportSize({ width: 360, height: 740 });
    await shoot(bob, "web-message-actions-bob-360.png");
    await bob.setViewportSize({ width: 1280, height: 800 });

    // Delete for everyone, after a confirmation: the text is gone on both sides, quotes say so.
    await act(alice, "Lunch at one instead?", "Delete");
    await bubble(alice, "Lunch at one instead?").getByText("Delete for everyone?").waitFor();
    await bubble(alice, "Lunch at one instead?").getByRole("button", { name: "Delete for everyone" }).click();
    await log(alice).getByText("You deleted this message").waitFor();
    await log(bob).getByText("This message was deleted").waitFor();
    await bubble(bob, "Yes, see you there").locator("blockquote", { hasText: "Deleted message" }).waitFor();
    assert.equal(await log(bob).getByText("Lunch at one instead?").count(), 0);
    assert.equal(await log(alice).getByText("Lunch at one instead?").count(), 0);
    await shoot(bob, "web-message-actions-deleted.png");
  });

  it("a group: @mention autocomplete, the mention highlighted for Bob and marked for Carol (CLI)", {
    timeout: 180_000,
  }, async () => {
    await alice.getByRole("button", { name: "New group" }).click();
    const create = alice.getByRole("dialog", { name: "New group" });
    await create.getByLabel("Group name").fill("Trip");
    await create.getByRole("button", { name: "Create group" }).click();
    await alice.getByRole("heading", { level: 2, name: "Trip" }).waitFor();
    await log(alice).getByRole("button", { name: "Add people" }).click();
    const add = alice.getByRole("dialog", { name: "Add people" });
    for (const name of ["Bob", "Carol"]) await add.getByRole("checkbox", { name }).check();
    await add.getByRole("button", { name: "Add 2 people" }).click();
    await alice.getByRole("dialog").getByRole("button", { name: "Done" }).click();
    await alice.getByText("3 members").waitFor();
    await open(bob, "Trip");
    await parleyJson(carol, "sync");

    // Autocomplete: "@Bo" offers Bob; picking him writes "@Bob ".
    await composer(alice).click();
    await composer(alice).pressSequentially("@Bo");
    const list = alice.getByRole("group", { name: "Mention someone" });
    await list.getByRole("button", { name: "Bob" }).waitFor();
    assert.equal(await list.getByRole("button", { name: "Carol" }).count(), 0, "only names starting with Bo");
    await shoot(alice, "web-mention-typing.png");
    await list.getByRole("button", { name: "Bob" }).click();
    assert.equal(await composer(alice).inputValue(), "@Bob ");
    await composer(alice).pressSequentially("and @Carol are you in for Saturday?");
    await composer(alice).press("Escape");
    await composer(alice).press("Enter");
    const text = "@Bob and @Carol are you in for Saturday?";
    await bubble(alice, text).waitFor();

    const atBob = bubble(bob, text);
    await atBob.locator(".mention.mention-me", { hasText: "@Bob" }).waitFor();
    await atBob.locator(".mention:not(.mention-me)", { hasText: "@Carol" }).waitFor();
    assert.match((await atBob.getAttribute("class")) ?? "", /mentions-me/);

    const carolSync = await eventually(async () => {
      const got = await parleyJson<{ id: string; text: string; mentionsMe?: boolean }[]>(carol, "sync");
      return got.find((m) => m.text === text);
    });
    assert.equal(carolSync.mentionsMe, true);
    await parleyJson(carol, "react", "Trip", carolSync.id.slice(0, 6), "🎉");
    await bubble(alice, text).getByRole("button", { name: "🎉 1" }).waitFor();
    await act(bob, text, "Reply");
    await composer(bob).fill("Count me in");
    await composer(bob).press("Enter");
    await bubble(alice, "Count me in")
      .locator("blockquote", { hasText: "are you in for Saturday" })
      .waitFor();
    await shoot(bob, "web-mention-bob.png");
    await shoot(alice, "web-group-reactions-alice.png");
  });

  it("raised no page error, and the relay holds none of the text, emoji or names", async () => {
    assert.deepEqual(
      problems.filter((p) => /pageerror|Content.Security.Policy/i.test(p)),
      [],
    );
    await relay.stop();
    const files = readdirSync(relay.dataDir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => join(e.parentPath, e.name));
    assert.ok(files.length > 0);
    const needles = [
      "Lunch at",
      "see you there",
      "Saturday",
      "Count me in",
      "👍",
      "🎉",
      "Alice",
      "Bob",
      "Carol",
      "Trip",
    ];
    for (const file of files) {
      const bytes = readFileSync(file);
      for (const needle of needles)
        assert.equal(bytes.indexOf(Buffer.from(needle)), -1, `${needle} in ${file}`);
    }
    await relay.start();
  });
});
