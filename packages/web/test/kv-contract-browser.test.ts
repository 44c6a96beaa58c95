/**
 * Core's key-value store contract against the web app's IndexedDB backend, in real Chromium: the
 * contract and the store are bundled by Vite into a test page served from this process (never by
 * the relay), and each case's outcome is reported as its own test.
 */
import assert from "node:assert/strict";
import { readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { keyValueStoreContract } from "@parley/core/testing";
import { type Browser, chromium } from "playwright-core";
import { build } from "vite";
import { browserSuiteUnavailable, CHROMIUM, CHROMIUM_ARGS, ROOT, tempDir } from "./helpers.js";

const unavailable = browserSuiteUnavailable();
if (unavailable && process.env.CI === "true") {
  it("the browser suite runs", () => {
    assert.fail(`CI=true but the browser suite cannot run: ${unavailable}`);
  });
} else {
  describe("KeyValueStore contract: IndexedDB in Chromium", { skip: unavailable ?? false }, () => {
    let browser: Browser | undefined;
    let server: Server | undefined;
    let results: { name: string; error: string | null }[] = [];
    const out = tempDir("kv-contract");

    before(async () => {
      await build({
        configFile: false,
        logLevel: "silent",
        root: join(ROOT, "packages/web"),
        build: {
          outDir: out,
          emptyOutDir: true,
          target: "es2022",
          lib: {
            entry: join(ROOT, "packages/web/test/browser/kv-contract.entry.ts"),
            formats: ["es"],
            fileName: () => "kv-contract.js",
          },
        },
      });
      const files: Record<string, [string, string]> = {
        "/": ["text/html", '<!doctype html><script type="module" src="/kv-contract.js"></script>'],
        "/kv-contract.js": ["text/javascript", readFileSync(join(out, "kv-contract.js"), "utf8")],
      };
      server = createServer((req, res) => {
        const file = files[req.url ?? ""];
        res.writeHead(file ? 200 : 404, { "content-type": file?.[0] ?? "text/plain" }).end(file?.[1] ?? "");
      });
      await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
      const { port } = server.address() as AddressInfo;
      browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 30_000 });
      const page = await browser.newPage();
      await page.goto(`http://127.0.0.1:${port}/`);
      await page.waitForFunction(() => "runKvContract" in window, undefined, { timeout: 15_000 });
      results = await page.evaluate(() =>
        (
          window as unknown as { runKvContract: () => Promise<{ name: string; error: string | null }[]> }
        ).runKvContract(),
      );
    });

    after(async () => {
      await browser?.close();
      await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
      rmSync(out, { recursive: true, force: true });
    });

    for (const c of keyValueStoreContract) {
      it(c.name, () => {
        const result = results.find((r) => r.name === c.name);
        assert.ok(result, "the case ran in the browser");
        assert.equal(result.error, null);
      });
    }
  });
}
