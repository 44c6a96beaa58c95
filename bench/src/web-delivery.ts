/**
 * What the web app costs to load (issue 14, "Web delivery"): bytes transferred (headers and bodies,
 * as Chromium's network layer counts them: CDP `Network.loadingFinished.encodedDataLength`) for a
 * first visit with an empty cache and a repeat visit in the same browser profile, and how many
 * requests each made, against a real relay process serving the built app.
 *
 * Needs Chromium (/usr/bin/chromium) and a built web app; says so and exits 0 without them.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, startRelayProcess } from "@parley/testkit";
import { chromium } from "playwright-core";
import { writeResults } from "./report.js";

const CHROMIUM = "/usr/bin/chromium";
const WEB_DIST = join(ROOT, "packages/web/dist");

async function visit(page: import("playwright-core").Page, url: string) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Network.enable");
  let bytes = 0;
  let requests = 0;
  let fromCache = 0;
  cdp.on("Network.loadingFinished", (e: { encodedDataLength: number }) => {
    bytes += e.encodedDataLength;
    requests++;
  });
  cdp.on("Network.requestServedFromCache", () => fromCache++);
  await page.goto(url, { waitUntil: "networkidle" });
  await page.getByRole("heading", { name: "Welcome to Parley" }).waitFor({ timeout: 20_000 });
  await cdp.detach();
  return { bytes, requests, fromCache };
}

if (!existsSync(CHROMIUM) || !existsSync(join(WEB_DIST, "index.html"))) {
  console.log(
    `web-delivery: skipped (${existsSync(CHROMIUM) ? "web app not built" : `${CHROMIUM} missing`})`,
  );
} else {
  const data = mkdtempSync(join(tmpdir(), "parley-web-delivery-"));
  const relay = await startRelayProcess({ dataDir: data, args: ["--static", WEB_DIST] });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
  try {
    const context = await browser.newContext();
    const page = await context.newPage();
    const first = await visit(page, `${relay.url}/`);
    // A later visit in the same browser: a new tab on the same profile, as a person returning.
    const again = await context.newPage();
    const repeat = await visit(again, `${relay.url}/`);
    const rows = [
      {
        visit: "first",
        kib: Math.round(first.bytes / 102.4) / 10,
        requests: first.requests,
        fromCache: first.fromCache,
      },
      {
        visit: "repeat",
        kib: Math.round(repeat.bytes / 102.4) / 10,
        requests: repeat.requests,
        fromCache: repeat.fromCache,
      },
    ];
    writeResults("web-delivery", rows, {
      note: "bytes on the wire (headers + bodies) as Chromium counts them, loading the onboarding page of the built app from a relay on loopback",
    });
  } finally {
    await browser.close();
    await relay.stop();
    rmSync(data, { recursive: true, force: true });
  }
}
