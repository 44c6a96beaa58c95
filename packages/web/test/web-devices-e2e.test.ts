/**
 * Several devices in the web app (issue 13), in real headless Chromium against a real relay process
 * serving the built app, with real CLI processes as the person's other devices:
 *
 *  - a CLI device links this browser: `parley device link` prints the link, the browser reads it
 *    from the QR code with its camera (a fake camera playing the code), both show the same short
 *    code, the person types it on the CLI; the browser then has the profile, receives and sends;
 *  - the browser links a CLI device (Settings → Your devices): the link it shows, `parley init
 *    --link` with it, the code typed in the browser; a wrong code cancels the link;
 *  - the browser lists the devices and revokes one;
 *  - a device link opened in the address bar opens the link form with it.
 */
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { spawnCli } from "@parley/testkit";
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
import { launchWithCamera, writeQrVideo } from "./qr-video.js";

const unavailable = browserSuiteUnavailable();
const PASS = "browser correct horse battery";

type Msg = { text: string; fromMe?: boolean; from?: string };

describe("linking devices in the web app", {
  skip: unavailable ? `skipped: ${unavailable}` : false,
}, () => {
  let relay: RelayProcess;
  let browser: Browser;
  let web: Page;
  const alice = tempDir("devices-alice"); // Alice's first device: the CLI
  const laptop = tempDir("devices-laptop"); // a CLI device the browser links
  const bob = tempDir("devices-bob");
  const video = join(tempDir("devices-video"), "camera.y4m");
  const problems: string[] = [];

  const conversations = () => web.getByRole("navigation", { name: "Conversations" });
  const log = () => web.getByRole("log", { name: "Messages" });
  const settings = () => web.getByRole("dialog", { name: "Settings" });

  before(async () => {
    relay = await startRelay();
    browser = await launchWithCamera(video);
    await parleyJson(alice, "init", "--name", "Alice", "--server", relay.url);
    await parleyJson(bob, "init", "--name", "Bob", "--server", relay.url);
    const { link } = await parleyJson<{ link: string }>(alice, "invite");
    await parleyJson(bob, "accept", link);
    await parleyJson(alice, "sync");
    await parleyJson(bob, "sync");
    await parleyJson(bob, "send", "Alice", "before the browser");
    await parleyJson(alice, "sync");
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await relay?.stop();
  });

  it("a CLI device links this browser with its history: QR code read by the camera, the code typed on the CLI", {
    timeout: 240_000,
  }, async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    web = await context.newPage();
    web.setDefaultTimeout(60_000);
    web.on("console", (msg) => {
      if (msg.type() === "error") problems.push(`console: ${msg.text()}`);
    });
    web.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));

    const existing = spawnCli(alice, ["--json", "device", "link", "--with-history", "--timeout", "120"], {
      stdin: "pipe",
      deadlineMs: 200_000,
    });
    try {
      const [, link] = await existing.waitForOutput(/"link":"([^"]+)"/, 30_000, "the link");
      writeQrVideo(video, link!);

      await web.goto(`${relay.url}/`);
      await web.getByText("Already use Parley on another device?").waitFor();
      await web.getByRole("button", { name: "Link to an existing profile" }).click();
      await web.getByRole("heading", { name: "Link to your profile" }).waitFor();
      await web.getByRole("button", { name: "Scan its QR code" }).click();
      const linkBox = web.getByLabel("Link from your other device");
      await eventually(
        async () => ((await linkBox.inputValue()) === link ? true : undefined),
        30_000,
        "scanned",
      );
      assert.equal(await web.locator("video").count(), 0, "the camera stops once the code is read");
      await web.getByLabel("This device's name").fill("Browser");
      await web.getByLabel("Passphrase", { exact: true }).fill(PASS);
      await web.getByLabel("Confirm passphrase").fill(PASS);
      mkdirSync(OUTPUT, { recursive: true });
      await web.screenshot({ path: join(OUTPUT, "web-link-form.png") });
      await web.getByRole("button", { name: "Link this browser" }).click();

      const shown = web.getByLabel("Code to type on your other device");
      await shown.waitFor();
      const code = (await shown.textContent())!.replace(/\s/g, "");
      const [, device, cliCode] = await existing.waitForOutput(
        /"device":"([^"]+)","code":"(\d{6})"/,
        30_000,
        "the CLI's code",
      );
      assert.equal(code, cliCode, "both devices show the same code");
      assert.equal(device, "Browser");
      await web.screenshot({ path: join(OUTPUT, "web-link-code.png") });
      // The person types on the existing device the code the browser shows.
      existing.child.stdin!.write(`${code}\n`);
      assert.equal((await existing.closed(120_000)).code, 0, existing.stderr());
      const linked = JSON.parse(existing.stdout().trim().split("\n").at(-1)!) as { linked: string[] };
      assert.equal(linked.linked.length, 1, "the chat with Bob");
    } finally {
      await existing.stop();
    }

    // The browser is Alice now: her chat with Bob is there, with its history, none of it unread.
    const bobRow = conversations().getByRole("button", { name: /^Bob/ });
    await bobRow.waitFor();
    assert.equal(await bobRow.getByRole("status").count(), 0, "history is not unread");
    await bobRow.click();
    await log().getByText("before the browser", { exact: true }).waitFor();
    await parleyJson(bob, "sync");
    await parleyJson(bob, "send", "Alice", "after the browser joined");
    await log().getByText("after the browser joined", { exact: true }).waitFor();
    const composer = web.getByRole("textbox", { name: "Message" });
    await composer.fill("written in the browser");
    await composer.press("Enter");
    await eventually(async () => {
      const got = await parleyJson<Msg[]>(bob, "sync");
      return got.some((m) => m.text === "written in the browser") ? true : undefined;
    });
    const atBob = await parleyJson<Msg[]>(bob, "messages", "Alice");
    assert.equal(atBob.find((m) => m.text === "written in the browser")?.fromMe, false);
    // Alice's CLI device has both: Bob's message, and hers written in the browser, as her own.
    await eventually(async () => {
      await parleyJson(alice, "sync");
      const mine = await parleyJson<Msg[]>(alice, "messages", "Bob");
      const texts = mine.map((m) => m.text);
      return texts.includes("after the browser joined") && texts.includes("written in the browser")
        ? mine
        : undefined;
    });
    const cliHistory = await parleyJson<Msg[]>(alice, "messages", "Bob");
    assert.equal(cliHistory.find((m) => m.text === "written in the browser")?.fromMe, true);
    await web.screenshot({ path: join(OUTPUT, "web-linked-chat.png") });
  });

  it("the browser links a CLI device from Settings; a wrong code cancels; devices are revoked", {
    timeout: 240_000,
  }, async () => {
    await web.getByRole("button", { name: "Settings" }).click();
    await settings().getByRole("heading", { name: "Your devices" }).waitFor();
    const list = settings().getByRole("list", { name: "Your devices" });
    await list.getByText("(this device)").waitFor();
    assert.equal(await list.getByRole("listitem").count(), 2, "the CLI and this browser");

    // A wrong code: the link is cancelled, the new device gives up.
    await settings().getByRole("button", { name: "Link a new device" }).click();
    let link = await settings().getByRole("textbox", { name: "Link for your new device" }).inputValue();
    const intruder = tempDir("devices-intruder");
    const wrong = spawnCli(
      intruder,
      ["--json", "init", "--link", link, "--device", "other", "--timeout", "8"],
      {
        deadlineMs: 60_000,
      },
    );
    try {
      const [, shownByIt] = await wrong.waitForOutput(/"code":"(\d{6})"/, 30_000, "its code");
      await settings()
        .getByText("“other” asks to become one of your devices. Type the code it shows.")
        .waitFor();
      await settings()
        .getByLabel("Code shown on the new device")
        .fill(shownByIt === "000000" ? "111111" : "000000");
      await settings().getByRole("button", { name: "Link it" }).click();
      await settings()
        .getByText("That is not the code the new device showed, so the link was cancelled. Make a new one.")
        .waitFor();
      assert.notEqual((await wrong.closed(40_000)).code, 0, "the other side is not linked");
    } finally {
      await wrong.stop();
    }

    // The right code: the CLI laptop becomes one of Alice's devices.
    await settings().getByRole("button", { name: "Link a new device" }).click();
    await settings().getByRole("img", { name: "QR code of the link for your new device" }).waitFor();
    link = await settings().getByRole("textbox", { name: "Link for your new device" }).inputValue();
    await web.screenshot({ path: join(OUTPUT, "web-link-offer.png") });
    const joining = spawnCli(
      laptop,
      ["--json", "init", "--link", link, "--device", "laptop", "--timeout", "120"],
      {
        deadlineMs: 200_000,
      },
    );
    try {
      const [, shown] = await joining.waitForOutput(/"code":"(\d{6})"/, 30_000, "the laptop's code");
      await settings()
        .getByText("“laptop” asks to become one of your devices. Type the code it shows.")
        .waitFor();
      await settings()
        .getByLabel("Code shown on the new device")
        .fill(`${shown!.slice(0, 3)} ${shown!.slice(3)}`);
      await settings().getByLabel("Also send it the history of your chats and posts").check();
      await settings().getByRole("button", { name: "Link it" }).click();
      await settings()
        .getByText(
          /^“laptop” is now one of your devices, in 1 chat or group\. \d+ messages of history went with it\.$/,
        )
        .waitFor();
      assert.equal((await joining.closed(120_000)).code, 0, joining.stderr());
    } finally {
      await joining.stop();
    }
    await list.getByText("laptop", { exact: true }).waitFor();
    assert.equal(await list.getByRole("listitem").count(), 3);
    // The laptop has the chat's history as the browser had it, in the same order.
    const onLaptop = (await parleyJson<Msg[]>(laptop, "messages", "Bob")).map((m) => m.text);
    const onCli = (await parleyJson<Msg[]>(alice, "messages", "Bob")).map((m) => m.text);
    assert.deepEqual(onLaptop, onCli);
    assert.ok(onLaptop.includes("before the browser") && onLaptop.includes("written in the browser"));
    await web.screenshot({ path: join(OUTPUT, "web-devices.png") });

    // The laptop reads the chat from now on.
    await parleyJson(bob, "sync");
    await parleyJson(bob, "send", "Alice", "to all three");
    const got = await eventually(async () => {
      const m = await parleyJson<Msg[]>(laptop, "sync");
      return m.length ? m : undefined;
    });
    assert.deepEqual(
      got.map((m) => m.text),
      ["to all three"],
    );
    await log().getByText("to all three", { exact: true }).waitFor();

    // Revoked from the browser: it leaves the list.
    const row = list.getByRole("listitem").filter({ hasText: "laptop" });
    await row.getByRole("button", { name: "Revoke" }).click();
    await row.getByRole("button", { name: "Revoke it" }).click();
    await settings()
      .getByText(/^“laptop” is revoked: removed from 1 chat or group\.$/)
      .waitFor();
    await eventually(async () => ((await list.getByRole("listitem").count()) === 2 ? true : undefined));
    await settings().getByRole("button", { name: "Done" }).click();

    // The CLI revokes the browser: the browser is told.
    await parleyJson(alice, "device", "revoke", "Browser");
    await web
      .getByText(
        "Another of your devices revoked this browser: it receives nothing new and can no longer send as you. Wipe it in Settings if you no longer use it.",
      )
      .waitFor();
    assert.deepEqual(problems, []);
  });

  it("a device link opened in the address bar opens the link form with it", { timeout: 60_000 }, async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const link = `${relay.url}/#/link/${"A".repeat(22)}/${"B".repeat(43)}`;
    await page.goto(link);
    await page.getByRole("heading", { name: "Link to your profile" }).waitFor();
    assert.equal(await page.getByLabel("Link from your other device").inputValue(), link);
    assert.equal(new URL(page.url()).hash, "", "the key left the address bar");
    await context.close();
  });
});
