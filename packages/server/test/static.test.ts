import assert from "node:assert/strict";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { describe, it } from "node:test";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import { startTestRelay, tempDir } from "./helpers.js";

/** A raw GET, so that `..` segments reach the server unnormalised (fetch would resolve them). */
function rawGet(url: string, path: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path, method: "GET" }, (res) => {
      let body = "";
      res.on("data", (d) => {
        body += d;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

/** A raw GET with headers, to see exactly what goes on the wire (fetch decompresses by itself). */
function rawGetWith(
  url: string,
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; headers: import("node:http").IncomingHttpHeaders; body: Buffer }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path, method: "GET", headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (d: Buffer) => chunks.push(d));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
    });
    req.on("error", reject);
    req.end();
  });
}

describe("static files", () => {
  it("caches hashed assets for good, revalidates index.html with an ETag, and compresses text", async (t) => {
    const dir = tempDir(t);
    const site = join(dir, "site");
    mkdirSync(join(site, "assets"), { recursive: true });
    const script = `console.log(${JSON.stringify("parley ".repeat(2000))})`;
    writeFileSync(join(site, "index.html"), "<!doctype html><title>Parley</title>");
    writeFileSync(join(site, "assets", "index-3f2a1b.js"), script);
    const relay = await startTestRelay(t, { config: { staticDir: site } });

    const asset = await rawGetWith(relay.url, "/assets/index-3f2a1b.js", { "accept-encoding": "br, gzip" });
    assert.equal(asset.status, 200);
    assert.equal(asset.headers["cache-control"], "public, max-age=31536000, immutable");
    assert.equal(asset.headers["content-encoding"], "br");
    assert.ok(asset.body.length < script.length / 10, `compressed to ${asset.body.length} bytes`);
    assert.equal(brotliDecompressSync(asset.body).toString(), script);
    const gzip = await rawGetWith(relay.url, "/assets/index-3f2a1b.js", { "accept-encoding": "gzip" });
    assert.equal(gzip.headers["content-encoding"], "gzip");
    assert.equal(gunzipSync(gzip.body).toString(), script);
    const plain = await rawGetWith(relay.url, "/assets/index-3f2a1b.js", {});
    assert.equal(plain.headers["content-encoding"], undefined);
    assert.equal(plain.body.toString(), script);

    const index = await rawGetWith(relay.url, "/", {});
    assert.equal(index.headers["cache-control"], "no-cache");
    const etag = index.headers.etag;
    assert.ok(etag, "index.html has an ETag");
    const again = await rawGetWith(relay.url, "/", { "if-none-match": etag });
    assert.equal(again.status, 304);
    assert.equal(again.body.length, 0);
    // Changed: a new ETag, served in full.
    writeFileSync(join(site, "index.html"), "<!doctype html><title>Parley 2</title>");
    const changed = await rawGetWith(relay.url, "/", { "if-none-match": etag });
    assert.equal(changed.status, 200);
    assert.match(changed.body.toString(), /Parley 2/);
  });

  it("serves a directory at / when configured, and nothing outside it", async (t) => {
    const dir = tempDir(t);
    const site = join(dir, "site");
    mkdirSync(join(site, "assets"), { recursive: true });
    writeFileSync(join(site, "index.html"), "<!doctype html><title>Parley</title>");
    writeFileSync(join(site, "assets", "app.js"), "console.log(1)");
    writeFileSync(join(dir, "secret.txt"), "outside");
    symlinkSync(join(dir, "secret.txt"), join(site, "link.txt"));

    const relay = await startTestRelay(t, { config: { staticDir: site } });
    const index = await fetch(`${relay.url}/`);
    assert.equal(index.status, 200);
    assert.match(index.headers.get("content-type") ?? "", /text\/html/);
    assert.equal(index.headers.get("x-content-type-options"), "nosniff");
    assert.equal(index.headers.get("referrer-policy"), "no-referrer");
    assert.match(await index.text(), /<title>Parley<\/title>/);

    const head = await fetch(`${relay.url}/assets/app.js`, { method: "HEAD" });
    assert.equal(head.status, 200);
    assert.equal(
      head.headers.get("content-length"),
      String("console.log(1)".length),
      "HEAD: the real length",
    );
    assert.match(head.headers.get("content-type") ?? "", /javascript/);
    assert.equal(await head.text(), "");
    const headIndex = await fetch(`${relay.url}/`, { method: "HEAD" });
    assert.equal(
      headIndex.headers.get("content-length"),
      String("<!doctype html><title>Parley</title>".length),
    );
    assert.ok(headIndex.headers.get("content-security-policy"), "HEAD gets the same headers as GET");

    const js = await fetch(`${relay.url}/assets/app.js`);
    assert.equal(js.status, 200);
    assert.match(js.headers.get("content-type") ?? "", /javascript/);
    assert.equal(await js.text(), "console.log(1)");

    assert.equal((await fetch(`${relay.url}/missing.js`)).status, 404);
    assert.equal((await fetch(`${relay.url}/link.txt`)).status, 404, "symlink out of the root");
    for (const path of [
      "/../secret.txt",
      "/assets/../../secret.txt",
      "/%2e%2e/secret.txt",
      "/..%2fsecret.txt",
    ]) {
      const res = await rawGet(relay.url, path);
      assert.equal(res.status, 404, path);
      assert.ok(!res.body.includes("outside"), path);
    }
    // The API is unaffected.
    const health = await fetch(`${relay.url}/v1/health`);
    assert.equal(health.status, 200);
    assert.equal((await fetch(`${relay.url}/v1/queues`)).status, 404);
  });

  it("serves nothing at / when no directory is configured", async (t) => {
    const relay = await startTestRelay(t);
    const res = await fetch(`${relay.url}/`);
    assert.equal(res.status, 404);
    assert.deepEqual(Object.keys((await res.json()) as object).sort(), ["code", "error"]);
  });
});
