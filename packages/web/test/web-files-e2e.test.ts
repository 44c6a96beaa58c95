/**
 * Files in the web app, in real headless Chromium against a real relay process serving the built
 * app, with a real CLI user on the other side: a picture attached in the browser loses its metadata,
 * shows a thumbnail, opens full size and reaches the CLI intact; a portrait photo keeps its
 * orientation (and loses its location); a "PDF" from the CLI that is really
 * an Android app is flagged on its card before it is downloaded, and downloads as an attachment.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
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
import { pngWithText } from "./images.js";

/** A stored ZIP whose first entry is AndroidManifest.xml: an APK's first bytes. */
function apk(): Buffer {
  const name = Buffer.from("AndroidManifest.xml");
  const content = randomBytes(3000);
  const header = Buffer.alloc(30);
  header.writeUInt32LE(0x04034b50, 0);
  header.writeUInt16LE(20, 4);
  header.writeUInt32LE(content.length, 18);
  header.writeUInt32LE(content.length, 22);
  header.writeUInt16LE(name.length, 26);
  return Buffer.concat([header, name, content]);
}

const unavailable = browserSuiteUnavailable();

describe("files in the web app", { skip: unavailable ? `skipped: ${unavailable}` : false }, () => {
  let relay: RelayProcess;
  let browser: Browser;
  let alice: Page;
  const cspViolations: string[] = [];
  const pageErrors: string[] = [];
  const dana = tempDir("cli-dana");
  const work = tempDir("files");

  before(async () => {
    relay = await startRelay();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    const context = await browser.newContext({
      viewport: { width: 1280, height: 800 },
      acceptDownloads: true,
    });
    alice = await context.newPage();
    alice.setDefaultTimeout(30_000);
    alice.on("console", (msg) => {
      if (msg.type() === "error" && /Content.Security.Policy/i.test(msg.text()))
        cspViolations.push(msg.text());
    });
    alice.on("pageerror", (e) => pageErrors.push(e.message));
    await alice.goto(`${relay.url}/`);
    await alice.getByLabel("Display name").fill("Alice");
    await alice.getByLabel("Passphrase", { exact: true }).fill("alice correct horse battery");
    await alice.getByLabel("Confirm passphrase").fill("alice correct horse battery");
    await alice.getByRole("button", { name: "Create profile" }).click();
    await alice.getByRole("button", { name: "Invite someone" }).click();
    const dialog = alice.getByRole("dialog", { name: "Invite someone" });
    const link = await dialog.getByLabel("Invite link").inputValue();
    await dialog.getByRole("button", { name: "Done" }).click();
    await parleyJson(dana, "init", "--name", "Dana", "--server", relay.url);
    await parleyJson(dana, "accept", link);
    await parleyJson(dana, "send", "Alice", "hi");
    const row = alice
      .getByRole("navigation", { name: "Conversations" })
      .getByRole("button", { name: /^Dana/ });
    await row.click();
    await alice.getByRole("heading", { level: 2, name: "Dana" }).waitFor();
    await alice.getByRole("log", { name: "Messages" }).getByText("hi", { exact: true }).waitFor();
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await relay?.stop();
  });

  it("a picture attached in the browser loses its metadata, shows a thumbnail and opens full size", {
    timeout: 120_000,
  }, async () => {
    const png = pngWithText();
    await alice
      .getByLabel("Choose files to send")
      .setInputFiles({ name: "garden.png", mimeType: "image/png", buffer: png });
    const card = alice.locator(".file-card", { hasText: "garden.png" });
    await card.waitFor();
    const thumbnail = card.getByRole("img", { name: "garden.png" });
    await thumbnail.waitFor();
    assert.match((await thumbnail.getAttribute("src")) ?? "", /^data:image\/jpeg;base64,/);
    await card.getByText("Removed before sending: text notes").waitFor();
    mkdirSync(OUTPUT, { recursive: true });
    await alice.screenshot({ path: join(OUTPUT, "web-files-picture.png") });

    await card.getByRole("button", { name: "Open garden.png" }).click();
    const viewer = alice.getByRole("dialog", { name: "garden.png" });
    await viewer.waitFor();
    assert.match((await viewer.getByRole("img").getAttribute("src")) ?? "", /^blob:/);
    await viewer.getByRole("button", { name: "Close" }).click();

    const files = await eventually(
      async () => {
        await parleyJson(dana, "sync");
        const list = await parleyJson<{ id: string; name: string }[]>(dana, "files", "Alice");
        return list.find((f) => f.name === "garden.png");
      },
      30_000,
      "the CLI to receive the picture",
    );
    const out = join(work, "garden.png");
    await parleyJson(dana, "get-file", files.id, out);
    const got = readFileSync(out);
    assert.equal(got.includes(Buffer.from("Hidden Street")), false, "the tEXt chunk is gone");
    assert.ok(got.includes(Buffer.from("IDAT")), "the picture itself arrived");
    assert.equal(got.length, png.length - (12 + "Author\0Alice Example, 12 Hidden Street".length));
  });

  it("a portrait photo loses its location but keeps its orientation: it still shows upright", {
    timeout: 120_000,
  }, async () => {
    // A real 64×48 JPEG (Chromium's own encoder), then EXIF as a phone writes it: the camera, a GPS
    // position and Orientation 6 (the pixels are landscape; shown rotated, the photo is portrait).
    const dataUrl = await alice.evaluate(() => {
      const canvas = document.createElement("canvas");
      canvas.width = 64;
      canvas.height = 48;
      const g = canvas.getContext("2d")!;
      g.fillStyle = "#3a7";
      g.fillRect(0, 0, 64, 48);
      return canvas.toDataURL("image/jpeg", 0.9);
    });
    const plain = Buffer.from(dataUrl.slice(dataUrl.indexOf(",") + 1), "base64");
    const tiff = Buffer.alloc(80);
    tiff.write("II*\0", 0, "latin1");
    tiff.writeUInt32LE(8, 4);
    tiff.writeUInt16LE(3, 8); // three entries
    tiff.writeUInt16LE(0x010f, 10); // Make: ASCII, 4 bytes, inline
    tiff.writeUInt16LE(2, 12);
    tiff.writeUInt32LE(4, 14);
    tiff.write("ACME", 18, "latin1");
    tiff.writeUInt16LE(0x0112, 22); // Orientation: SHORT, 1 value: 6
    tiff.writeUInt16LE(3, 24);
    tiff.writeUInt32LE(1, 26);
    tiff.writeUInt16LE(6, 30);
    tiff.writeUInt16LE(0x8825, 34); // GPS IFD pointer
    tiff.writeUInt16LE(4, 36);
    tiff.writeUInt32LE(1, 38);
    tiff.writeUInt32LE(50, 42);
    tiff.write("GPS 48.8584N 2.2945E", 50, "latin1");
    const exif = Buffer.concat([Buffer.from("Exif\0\0", "latin1"), tiff]);
    const app1 = Buffer.concat([Buffer.from([0xff, 0xe1, 0, exif.length + 2]), exif]);
    const photo = Buffer.concat([plain.subarray(0, 2), app1, plain.subarray(2)]);

    await alice
      .getByLabel("Choose files to send")
      .setInputFiles({ name: "portrait.jpg", mimeType: "image/jpeg", buffer: photo });
    const card = alice.locator(".file-card", { hasText: "portrait.jpg" });
    await card.waitFor();
    await card.getByText("Removed before sending: location, camera model, and other EXIF data").waitFor();
    await card.getByRole("button", { name: "Open portrait.jpg" }).click();
    const viewer = alice.getByRole("dialog", { name: "portrait.jpg" });
    await viewer.waitFor();
    const size = await viewer.getByRole("img").evaluate(async (img: HTMLImageElement) => {
      await img.decode();
      return [img.naturalWidth, img.naturalHeight];
    });
    assert.deepEqual(size, [48, 64], "shown upright: the orientation survived the stripping");
    await viewer.getByRole("button", { name: "Close" }).click();

    const file = await eventually(
      async () => {
        await parleyJson(dana, "sync");
        const list = await parleyJson<{ id: string; name: string }[]>(dana, "files", "Alice");
        return list.find((f) => f.name === "portrait.jpg");
      },
      60_000,
      "the CLI to receive the photo",
    );
    const out = join(work, "portrait.jpg");
    await parleyJson(dana, "get-file", file.id, out);
    const got = readFileSync(out);
    assert.equal(got.includes(Buffer.from("GPS 48.8584N")), false, "no location");
    assert.equal(got.includes(Buffer.from("ACME")), false, "no camera");
    assert.ok(got.includes(Buffer.from([0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6])), "Orientation 6 kept");
  });

  it("a PDF that is really an Android app is flagged before download and downloads as an attachment", {
    timeout: 120_000,
  }, async () => {
    const bytes = apk();
    const path = join(work, "invoice.pdf");
    writeFileSync(path, bytes);
    await parleyJson(dana, "send-file", "Alice", path);
    const card = alice.locator(".file-card", { hasText: "invoice.pdf" });
    await card.waitFor();
    await card.getByText("invoice.pdf is really an Android app (APK), not a PDF document").waitFor();
    await card.getByText("invoice.pdf is an Android app").waitFor();
    mkdirSync(OUTPUT, { recursive: true });
    await alice.screenshot({ path: join(OUTPUT, "web-files-apk-warning.png") });
    alice.once("dialog", (d) => {
      assert.match(d.message(), /is really an Android app/);
      void d.accept();
    });
    const [download] = await Promise.all([
      alice.waitForEvent("download"),
      card.getByRole("button", { name: "Download" }).click(),
    ]);
    assert.equal(download.suggestedFilename(), "invoice.pdf");
    const saved = join(work, "downloaded.pdf");
    await download.saveAs(saved);
    assert.ok(readFileSync(saved).equals(bytes));
    await card.getByText("checked", { exact: false }).waitFor();
  });

  it("the sender deletes its file from the relay; the CLI recipient is told the sender deleted it", {
    timeout: 120_000,
  }, async () => {
    await alice
      .getByLabel("Choose files to send")
      .setInputFiles({ name: "plan.txt", mimeType: "text/plain", buffer: Buffer.from("the plan, v1\n") });
    const card = alice.locator(".file-card", { hasText: "plan.txt" });
    await card.waitFor();
    const file = await eventually(
      async () => {
        await parleyJson(dana, "sync");
        const list = await parleyJson<{ id: string; name: string }[]>(dana, "files", "Alice");
        return list.find((f) => f.name === "plan.txt");
      },
      60_000,
      "the CLI to receive plan.txt",
    );
    alice.once("dialog", (d) => {
      assert.match(d.message(), /Delete plan\.txt from the relay\?/);
      void d.accept();
    });
    await card.getByRole("button", { name: "Delete from relay" }).click();
    await card.getByText("You deleted it from the relay").waitFor();
    assert.equal(await card.getByRole("button", { name: "Delete from relay" }).count(), 0);
    assert.equal(await card.getByRole("button", { name: "Download" }).count(), 0);
    mkdirSync(OUTPUT, { recursive: true });
    await alice.screenshot({ path: join(OUTPUT, "web-files-deleted.png") });
    const r = await runCli(dana, ["--json", "get-file", file.id, join(work, "plan.txt")]);
    assert.equal(r.code, 1);
    assert.equal(JSON.parse(r.stdout).code, "file_deleted");
  });

  it("a file its CLI sender deleted says so in the browser, by code, when fetched", {
    timeout: 120_000,
  }, async () => {
    const path = join(work, "old-notes.txt");
    writeFileSync(path, "notes that will be taken back\n");
    const sent = await parleyJson<{ file: { id: string } }>(dana, "send-file", "Alice", path);
    const card = alice.locator(".file-card", { hasText: "old-notes.txt" });
    await card.waitFor();
    assert.equal(await card.getByRole("button", { name: "Delete from relay" }).count(), 0, "not ours");
    await parleyJson(dana, "delete-file", sent.file.id);
    await card.getByRole("button", { name: "Download" }).click();
    await alice.getByText("The sender deleted this file. It cannot be downloaded any more.").waitFor();
    await card.getByText("Deleted from the relay by its sender").waitFor();
  });

  it("raised no Content-Security-Policy violation and no page error", () => {
    assert.deepEqual(cspViolations, []);
    assert.deepEqual(pageErrors, []);
  });
});
