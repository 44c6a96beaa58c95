/**
 * Opening the Feed in the web app (issue 12): a friend's browser holding POSTS (1,000) posts with
 * COMMENTS (10,000) comments and likes; the time from choosing "Feed" to the first screen painted
 * (the posts of the first screen in the DOM, then the next animation frame: the frame that shows
 * them), median of REPS opens, each after switching back to Chats. Real headless Chromium, the app
 * served by a real relay process, the profile in IndexedDB under the app's encryption at rest.
 *
 * The feed is made up (core's fillFeed, as in the feed bench) inside the page, through a build of
 * the app for benchmarks only (`vite build --mode bench`: src/bench-hook.ts; the app the relay
 * ships has no such hook). Needs Chromium; says so and exits 0 without it.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, spawnChild, startRelayProcess } from "@parley/testkit";
import { chromium } from "playwright-core";
import { median, round, writeResults } from "./report.js";

/**
 * Run in the page (a string: this package is built without the DOM's types): chooses "Feed" and
 * resolves, with the time since, at the frame after the first screen's posts are in the DOM.
 */
const OPEN_FEED = `new Promise((resolve) => {
  const feed = [...document.querySelectorAll("nav button")].find((b) => b.textContent.startsWith("Feed"));
  const start = performance.now();
  const observer = new MutationObserver(() => {
    const posts = document.querySelectorAll(".feed-post");
    if (posts.length === 0) return;
    observer.disconnect();
    requestAnimationFrame(() =>
      resolve({
        ms: performance.now() - start,
        posts: posts.length,
        comments: document.querySelectorAll(".feed-post li").length,
      }),
    );
  });
  observer.observe(document.body, { childList: true, subtree: true });
  feed.click();
})`;

const CHROMIUM = "/usr/bin/chromium";
const POSTS = Number(process.env.BENCH_FEED_POSTS ?? 1000);
const COMMENTS = Number(process.env.BENCH_FEED_COMMENTS ?? 10_000);
const REPS = Number(process.env.BENCH_FEED_REPS ?? 7);
const PASS = "bench correct horse battery";

if (!existsSync(CHROMIUM)) {
  console.log(`web-feed: skipped (${CHROMIUM} missing)`);
} else {
  const out = mkdtempSync(join(tmpdir(), "parley-web-bench-"));
  const build = spawnChild(
    process.execPath,
    [
      join(ROOT, "node_modules/vite/bin/vite.js"),
      "build",
      "--mode",
      "bench",
      "--outDir",
      out,
      "--emptyOutDir",
    ],
    { cwd: join(ROOT, "packages/web"), deadlineMs: 300_000, stderr: "inherit" },
  );
  const built = await build.closed(300_000);
  if (built.code !== 0) throw new Error(`the bench build of the web app failed: ${build.stdout()}`);
  const data = mkdtempSync(join(tmpdir(), "parley-web-feed-"));
  const relay = await startRelayProcess({ dataDir: data, args: ["--static", out] });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
  try {
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    page.setDefaultTimeout(120_000);
    await page.goto(`${relay.url}/`);
    await page.getByLabel("Display name").fill("Reader");
    await page.getByLabel("Passphrase", { exact: true }).fill(PASS);
    await page.getByLabel("Confirm passphrase").fill(PASS);
    await page.getByRole("button", { name: "Create profile" }).click();
    await page.getByRole("button", { name: "Invite someone" }).waitFor();
    const t0 = Date.now();
    // The bench-only build's hook (packages/web/src/bench-hook.ts).
    await page.evaluate(`window.parleyBench.fillFeed(${JSON.stringify(PASS)}, ${POSTS}, ${COMMENTS})`);
    console.error(`web-feed: ${POSTS} posts and ${COMMENTS} comments stored in ${Date.now() - t0} ms`);
    const tabs = page.getByRole("navigation", { name: "View" });
    const opens: number[] = [];
    let shown = 0;
    let commentsShown = 0;
    for (let i = 0; i < REPS + 1; i++) {
      await tabs.getByRole("button", { name: /^Chats/ }).click();
      await page.locator(".feed-post").first().waitFor({ state: "detached" });
      const measured = (await page.evaluate(OPEN_FEED)) as { ms: number; posts: number; comments: number };
      if (i > 0) opens.push(measured.ms); // the first open warms the code paths up
      shown = measured.posts;
      commentsShown = measured.comments;
    }
    writeResults(
      "web-feed",
      [
        {
          what: `open the Feed: first screen painted, of ${POSTS} posts / ${COMMENTS} comments`,
          medianMs: round(median(opens)),
          minMs: round(Math.min(...opens)),
          maxMs: round(Math.max(...opens)),
          target: "≤ 100 ms",
          postsRendered: shown,
          commentItemsRendered: commentsShown,
        },
      ],
      { posts: POSTS, comments: COMMENTS, reps: REPS },
    );
  } finally {
    await browser.close();
    await relay.stop();
    rmSync(data, { recursive: true, force: true });
    rmSync(out, { recursive: true, force: true });
  }
}
