/**
 * The Feed view (issue 12) in real headless Chromium against a real relay serving the built app,
 * with real CLI friends: a friend's post raises the new-posts badge beside Chats and shows in the
 * feed; a like and a comment from the browser reach its author; a post composed in the browser with
 * a photo and "chosen contacts" as its audience reaches that contact (photo inline, metadata gone)
 * and not another friend; their comment appears live; deleting it removes it from their feed.
 * Screenshots in test-output/web-feed-*.png.
 */
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
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
import { pngWithText } from "./images.js";

interface PostJson {
  id: string;
  text: string;
  from: string;
  images: { id: string }[];
  comments: { from: string; text: string }[];
  likes: string[];
}

const unavailable = browserSuiteUnavailable();

describe("the Feed view", { skip: unavailable ? `skipped: ${unavailable}` : false }, () => {
  let relay: RelayProcess;
  let browser: Browser;
  let alice: Page;
  const pageErrors: string[] = [];
  const bob = tempDir("feed-bob");
  const carol = tempDir("feed-carol");
  const feedOf = async (home: string) => {
    await parleyJson(home, "sync");
    return parleyJson<PostJson[]>(home, "feed");
  };

  async function befriend(home: string, name: string) {
    await alice.getByRole("button", { name: "Invite someone" }).click();
    const dialog = alice.getByRole("dialog", { name: "Invite someone" });
    const link = await dialog.getByLabel("Invite link").inputValue();
    await dialog.getByRole("button", { name: "Done" }).click();
    await parleyJson(home, "init", "--name", name, "--server", relay.url);
    await parleyJson(home, "accept", link);
    await parleyJson(home, "send", "Alice", `hi from ${name}`);
    await alice
      .getByRole("navigation", { name: "Conversations" })
      .getByRole("button", { name: new RegExp(`^${name}`) })
      .waitFor();
    await parleyJson(home, "sync"); // Alice's key packages
  }

  before(async () => {
    relay = await startRelay();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    alice = await context.newPage();
    alice.setDefaultTimeout(30_000);
    alice.on("pageerror", (e) => pageErrors.push(e.message));
    alice.on("dialog", (d) => void d.accept());
    await alice.goto(`${relay.url}/`);
    await alice.getByLabel("Display name").fill("Alice");
    await alice.getByLabel("Passphrase", { exact: true }).fill("alice correct horse battery");
    await alice.getByLabel("Confirm passphrase").fill("alice correct horse battery");
    await alice.getByRole("button", { name: "Create profile" }).click();
    await befriend(bob, "Bob");
    await befriend(carol, "Carol");
    mkdirSync(OUTPUT, { recursive: true });
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await relay?.stop();
  });

  it("a friend's post raises the badge and shows in the feed; a like and a comment reach its author", {
    timeout: 240_000,
  }, async () => {
    const posted = await parleyJson<PostJson>(bob, "post", "Bob's first post: hello, friends");
    const badge = alice.getByRole("status", { name: "1 new post" });
    await badge.waitFor();
    await alice.screenshot({ path: join(OUTPUT, "web-feed-badge.png") });

    await alice.getByRole("button", { name: /^Feed/ }).click();
    const card = alice.getByRole("article", { name: "Post by Bob" });
    await card.getByText("Bob's first post: hello, friends").waitFor();
    assert.equal(await badge.count(), 0, "the badge goes once the feed is open");
    await card.getByRole("button", { name: "♡ Like" }).click();
    await card.getByRole("button", { name: "♥ Liked" }).waitFor();
    await card.getByLabel("Comment on Bob's post").fill("Lovely to see you here");
    await card.getByRole("button", { name: "Send" }).click();
    await card.getByRole("list", { name: "Comments" }).getByText("Lovely to see you here").waitFor();

    const onBob = await eventually(
      async () => {
        const p = (await feedOf(bob)).find((x) => x.id === posted.id);
        return p && p.comments.length > 0 && p.likes.length > 0 ? p : undefined;
      },
      60_000,
      "Bob to see the like and the comment",
    );
    assert.deepEqual(onBob.likes, ["Alice"]);
    assert.deepEqual(
      onBob.comments.map((c) => [c.from, c.text]),
      [["Alice", "Lovely to see you here"]],
    );
  });

  it("a post composed in the browser with a photo, for chosen contacts: Carol sees it, Bob does not", {
    timeout: 300_000,
  }, async () => {
    const composer = alice.getByRole("form", { name: "New post" });
    await composer.getByLabel("What's on your mind?").fill("Sunset from the roof");
    await composer
      .getByLabel("Add photos")
      .setInputFiles({ name: "sunset.png", mimeType: "image/png", buffer: pngWithText() });
    await composer.getByRole("list", { name: "Photos to post" }).getByText("sunset.png").waitFor();
    await composer.getByLabel("Who sees it").selectOption("chosen");
    await composer.getByRole("checkbox", { name: "Carol" }).check();
    await composer.getByRole("button", { name: "Post" }).click();
    const mine = alice.getByRole("article", { name: "Post by You" });
    await mine.getByText("Sunset from the roof").waitFor({ timeout: 120_000 });
    const photo = mine.getByRole("img");
    await eventually(
      async () => ((await photo.getAttribute("src"))?.startsWith("blob:") ? true : undefined),
      30_000,
      "the photo, fetched and decrypted, inline",
    );
    await mine.getByText("Chosen contacts").waitFor();

    const onCarol = await eventually(
      async () => (await feedOf(carol)).find((p) => p.text === "Sunset from the roof"),
      60_000,
      "Carol to receive the post",
    );
    assert.equal(onCarol.from, "Alice");
    assert.equal(onCarol.images.length, 1);
    assert.equal(
      (await feedOf(bob)).some((p) => p.text === "Sunset from the roof"),
      false,
    );

    await parleyJson(carol, "comment", `#${onCarol.id}`, "Gorgeous colours");
    await mine
      .getByRole("list", { name: "Comments" })
      .getByText("Gorgeous colours")
      .waitFor({ timeout: 60_000 });
    await alice.screenshot({ path: join(OUTPUT, "web-feed.png"), fullPage: true });

    await mine.getByRole("button", { name: "Delete" }).click();
    await mine.waitFor({ state: "detached" });
    await eventually(
      async () => ((await feedOf(carol)).some((p) => p.text === "Sunset from the roof") ? undefined : true),
      60_000,
      "the post to leave Carol's feed",
    );
    assert.deepEqual(pageErrors, []);
  });
});
