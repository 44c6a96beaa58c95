/**
 * The safety-number scanner in real headless Chromium, its camera a fake device that plays a Y4M
 * file this test draws (Chromium's --use-file-for-fake-video-capture): a QR code of the wrong
 * number is refused, the contact's real one (as the CLI prints it) verifies them. The relay lets
 * the page use the camera (Permissions-Policy camera=(self)). And the digits are laid out the same
 * on a phone and a desktop: four groups a line, three lines.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
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
import { launchWithCamera, writeQrVideo } from "./qr-video.js";

const unavailable = browserSuiteUnavailable();
const PASS = "alice correct horse battery";
describe("scanning a safety number in the web app", {
  skip: unavailable ? `skipped: ${unavailable}` : false,
}, () => {
  let relay: RelayProcess;
  let browser: Browser;
  let alice: Page;
  const bob = tempDir("scan-bob");
  const video = join(tempDir("scan-video"), "camera.y4m");
  let digits = "";

  const dialog = () => alice.getByRole("dialog", { name: "Safety number with Bob" });

  before(async () => {
    relay = await startRelay();
    browser = await launchWithCamera(video);
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    alice = await context.newPage();
    alice.setDefaultTimeout(30_000);
    await alice.goto(`${relay.url}/`);
    await alice.getByLabel("Display name").fill("Alice");
    await alice.getByLabel("Passphrase", { exact: true }).fill(PASS);
    await alice.getByLabel("Confirm passphrase").fill(PASS);
    await alice.getByRole("button", { name: "Create profile" }).click();
    await alice.getByRole("button", { name: "Invite someone" }).click();
    const invite = alice.getByRole("dialog", { name: "Invite someone" });
    const link = await invite.getByLabel("Invite link").inputValue();
    await invite.getByRole("button", { name: "Done" }).click();
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
    digits = (await parleyJson<{ safetyNumber: string }>(bob, "safety", "Alice")).safetyNumber;
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await relay?.stop();
  });

  it("the relay lets the page itself use the camera", async () => {
    const response = await fetch(`${relay.url}/`);
    assert.match(response.headers.get("permissions-policy") ?? "", /camera=\(self\)/);
  });

  it("refuses a code of another number, verifies with the contact's own", { timeout: 120_000 }, async () => {
    const wrong = `${digits.slice(0, -1)}${digits.endsWith("0") ? "1" : "0"}`;
    writeQrVideo(video, wrong);
    await alice.getByRole("button", { name: "Safety number" }).click();
    await dialog().getByRole("button", { name: "Scan their code" }).click();
    await dialog().getByText("This code does not match the safety number you share with Bob.").waitFor();
    await dialog().getByText("Bob is not verified yet.").waitFor();

    writeQrVideo(video, digits);
    await dialog().getByRole("button", { name: "Scan again" }).click();
    await dialog().getByText("The codes match: you have verified Bob.").waitFor();
    await dialog().getByText("You have verified Bob.", { exact: true }).waitFor();
    const tracks = await alice.evaluate(() => document.querySelectorAll("video").length);
    assert.equal(tracks, 0, "the camera view is gone once the code is read");
  });

  it("lays the digits out alike on a phone and a desktop: four groups a line, three lines", async () => {
    const layout = async () =>
      dialog()
        .locator(".safety-digits span")
        .evaluateAll((spans) => {
          const tops = [...new Set(spans.map((s) => Math.round(s.getBoundingClientRect().top)))];
          return {
            groups: spans.length,
            lines: tops.length,
            text: spans.map((s) => s.textContent).join(" "),
          };
        });
    const desktop = await layout();
    await alice.setViewportSize({ width: 360, height: 740 });
    const phone = await layout();
    await alice.setViewportSize({ width: 1280, height: 800 });
    assert.deepEqual(desktop, { groups: 12, lines: 3, text: digits.match(/.{5}/g)!.join(" ") });
    assert.deepEqual(phone, desktop);
  });
});
