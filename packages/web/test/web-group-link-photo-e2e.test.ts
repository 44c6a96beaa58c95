/**
 * Issue 14 in the web app, in real headless Chromium against a real relay serving the built app,
 * with CLI people beside it: a profile photo chosen in settings (made small, its text metadata
 * gone) reaches a CLI contact, and the CLI contact's photo shows beside their name; a group invite
 * link made in the group's info is opened by Dave on the CLI (nobody's contact) and approved with
 * a button; a CLI group's link opened in the browser asks to join and the group appears.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import {
  browserSuiteUnavailable,
  eventually,
  OUTPUT,
  parleyJson,
  type RelayProcess,
  startRelay,
  tempDir,
} from "./helpers.js";
import { pngWithText } from "./images.js";
import { webUserWithCliContact } from "./web-and-cli.js";

const unavailable = browserSuiteUnavailable();

interface Contact {
  name: string;
  photo: { mime: string; data: string } | null;
}

describe("group invite links and profile photos in the web app", {
  skip: unavailable ? `skipped: ${unavailable}` : false,
}, () => {
  let relay: RelayProcess;
  let browser: Browser;
  let alice: Page;
  const bob = tempDir("glp-bob");
  const dave = tempDir("glp-dave");
  let problems: string[] = [];

  before(async () => {
    relay = await startRelay();
    ({ browser, page: alice, problems } = await webUserWithCliContact(relay, bob));
    await parleyJson(dave, "init", "--name", "Dave", "--server", relay.url);
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await relay?.stop();
  });

  it("a photo chosen in settings reaches Bob small and clean; Bob's shows beside his name", {
    timeout: 240_000,
  }, async () => {
    await alice.getByRole("button", { name: "Settings" }).click();
    const settings = alice.getByRole("dialog", { name: "Settings" });
    await settings.getByLabel("Profile photo").setInputFiles({
      name: "me.png",
      mimeType: "image/png",
      buffer: pngWithText(),
    });
    await settings.getByText("Photo updated and sent to your contacts.").waitFor();
    await settings.getByRole("img", { name: "Your profile photo" }).waitFor();
    await settings.getByRole("button", { name: "Done" }).click();

    const photo = await eventually(async () => {
      await parleyJson(bob, "sync");
      const [a] = await parleyJson<Contact[]>(bob, "contacts");
      return a?.photo ?? undefined;
    });
    assert.equal(photo.mime, "image/jpeg", "re-encoded small on Alice's device");
    const bytes = Buffer.from(photo.data, "base64url");
    assert.equal(bytes.indexOf("Hidden Street"), -1, "the PNG's author text never left the browser");

    const png = join(tempDir("glp-files"), "bob.png");
    writeFileSync(png, pngWithText());
    await parleyJson(bob, "profile", "photo", png);
    const list = alice.getByRole("navigation", { name: "Conversations" });
    await list.locator("img.avatar-photo").waitFor();
    await alice.getByRole("img", { name: "Bob's profile photo" }).waitFor();
  });

  it("a link made in the group's info: Dave asks on the CLI, Alice approves with a button", {
    timeout: 300_000,
  }, async () => {
    await alice.getByRole("button", { name: "New group" }).click();
    const create = alice.getByRole("dialog", { name: "New group" });
    await create.getByLabel("Group name").fill("Garden");
    await create.getByRole("button", { name: "Create group" }).click();
    await alice.getByRole("heading", { level: 2, name: "Garden" }).waitFor();
    await alice.getByRole("button", { name: "Group info" }).click();
    const info = alice.getByRole("dialog", { name: "Group info" });
    await info.getByRole("checkbox", { name: "Approve each request" }).check();
    await info.getByLabel("Link works for").selectOption("1d");
    await info.getByRole("button", { name: "Create link" }).click();
    const link = await info.getByLabel("Current link").inputValue();
    assert.match(link, /#\/join\//);

    const asked = await parleyJson<{ approve: boolean }>(dave, "accept", link);
    assert.equal(asked.approve, true);
    // Alice's app is listening: the request shows in the open dialog.
    const approve = info.getByRole("button", { name: "Approve Dave" });
    await approve.waitFor({ timeout: 60_000 });
    await alice.screenshot({ path: join(OUTPUT, "web-group-link-request.png") });
    await approve.click();
    await info.getByText("Nobody is waiting.").waitFor();
    const members = await eventually(async () => {
      await parleyJson(dave, "sync");
      const m = await parleyJson<{ name: string }[]>(dave, "group", "members", "Garden").catch(() => []);
      return m.length === 2 ? m : undefined;
    });
    assert.equal(members.length, 2);
    await parleyJson(dave, "send", "Garden", "thanks for having me");
    await alice.keyboard.press("Escape");
    await alice.getByRole("log", { name: "Messages" }).getByText("thanks for having me").waitFor();
  });

  it("a CLI group's link opened in the browser asks to join; the group appears", {
    timeout: 300_000,
  }, async () => {
    await parleyJson(dave, "group", "create", "Choir");
    const { link } = await parleyJson<{ link: string }>(dave, "group", "invite-link", "Choir");
    await alice.goto(link);
    const ask = alice.getByRole("dialog", { name: "Ask to join this group?" });
    await ask.waitFor();
    await alice.screenshot({ path: join(OUTPUT, "web-group-link-open.png") });
    await ask.getByRole("button", { name: "Ask to join" }).click();
    await alice.getByText("You asked to join “Choir”.", { exact: false }).waitFor();
    await parleyJson(dave, "sync");
    const list = alice.getByRole("navigation", { name: "Conversations" });
    await list.getByRole("button", { name: /^Choir/ }).waitFor({ timeout: 60_000 });
    assert.deepEqual(problems, []);
  });
});
