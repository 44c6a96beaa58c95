/**
 * ts-mls is a development dependency (issue 10): the reference for differential tests, reached only
 * through "@parley/core/ts-mls". Loading it cost ~130 ms at every start of a `parley` command and of
 * the seal worker, and it was in the web bundle. These checks fail if product code loads it again:
 *
 *  - processes that import "@parley/core", "@parley/core/node", the HPKE seal worker's module, and run
 *    the CLI (its compiled modules), under a module hook that refuses to resolve anything in
 *    node_modules/ts-mls — checked to refuse "@parley/core/ts-mls" itself, so the hook is known to bite;
 *  - the one-file CLI bundle and the web app's built assets (`npm run build` makes both before the
 *    tests) hold none of a set of string literals of ts-mls' own code (each was in both builds while
 *    ts-mls was a runtime dependency: its TLS codec's errors, its default suite's KEM name …).
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import { ROOT, spawnChild, tempDir } from "@parley/testkit";

const dir = tempDir("no-ts-mls", { after });
const hook = join(dir, "refuse-ts-mls.mjs");
writeFileSync(
  join(dir, "refuse-ts-mls-hooks.mjs"),
  `export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  if (/[\\\\/]node_modules[\\\\/]ts-mls[\\\\/]/.test(resolved.url))
    throw new Error("TS-MLS LOADED: " + specifier + " from " + context.parentURL);
  return resolved;
}
`,
);
writeFileSync(
  hook,
  `import { register } from "node:module";
register(${JSON.stringify(pathToFileURL(join(dir, "refuse-ts-mls-hooks.mjs")).href)});
`,
);

const CORE = join(ROOT, "packages/core");

/** Runs `node --import <hook> args` in the core package (so "@parley/core" resolves), with a deadline. */
async function run(args: string[]): Promise<{ code: number | null; out: string }> {
  const child = spawnChild(process.execPath, ["--import", hook, ...args], { cwd: CORE, deadlineMs: 60_000 });
  try {
    const exit = await child.closed(60_000);
    return { code: exit.code, out: child.stdout() + child.stderr() };
  } finally {
    child.kill();
  }
}

const importAll = (specifiers: string[]) =>
  `for (const s of ${JSON.stringify(specifiers)}) await import(s); console.log("imported");`;

/** String literals of ts-mls' code (node_modules/ts-mls/dist), none of them in Parley's own sources. */
const TS_MLS_MARKERS = [
  "8-byte length not supported in this implementation",
  "Length too large to encode (max is 2^30 - 1)",
  "The last node in the ratchet tree must be non-blank.",
  "DHKEM-X25519-HKDF-SHA256",
  "Optional dependency '@noble/curves' is not installed",
];

function markersIn(file: string): string[] {
  const text = readFileSync(file, "utf8");
  return TS_MLS_MARKERS.filter((m) => text.includes(m));
}

describe("product code does not load ts-mls", () => {
  it("the hook refuses ts-mls (so the checks below can fail)", async () => {
    const r = await run(["--input-type=module", "-e", importAll(["@parley/core/ts-mls"])]);
    assert.notEqual(r.code, 0);
    assert.match(r.out, /TS-MLS LOADED/);
  });

  it('"@parley/core", "@parley/core/node" and the seal worker load without it', async () => {
    const worker = pathToFileURL(join(CORE, "dist/src/crypto/hpke-seal-worker.js")).href;
    const r = await run([
      "--input-type=module",
      "-e",
      importAll(["@parley/core", "@parley/core/node", worker]),
    ]);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /imported/);
  });

  it("the CLI's modules run a command without it", async () => {
    const r = await run([join(ROOT, "packages/cli/dist/src/main.js"), "--help"]);
    assert.equal(r.code, 0, r.out);
    assert.doesNotMatch(r.out, /TS-MLS LOADED/);
    assert.match(r.out, /parley/);
  });

  it("the markers are ts-mls' (found in its code), so their absence below means something", () => {
    const found = new Set<string>();
    const walk = (d: string) => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        const p = join(d, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.name.endsWith(".js")) for (const m of markersIn(p)) found.add(m);
      }
    };
    walk(join(ROOT, "node_modules/ts-mls/dist"));
    assert.deepEqual([...found].sort(), [...TS_MLS_MARKERS].sort());
  });

  it("the CLI bundle holds no ts-mls code", () => {
    assert.deepEqual(markersIn(join(ROOT, "packages/cli/dist/parley.bundle.mjs")), []);
  });

  it("the web app loads no ts-mls code, but for migration 4's converter, a chunk fetched on demand", () => {
    const dist = join(ROOT, "packages/web/dist");
    const assets = join(dist, "assets");
    const scripts = readdirSync(assets).filter((f) => f.endsWith(".js"));
    assert.ok(scripts.length > 0, "no built web app: run `npm run build` first");
    // What the page loads: the scripts index.html names, and whatever they import statically.
    const html = readFileSync(join(dist, "index.html"), "utf8");
    const loaded = new Set([...html.matchAll(/src="\/assets\/([^"]+\.js)"/g)].map((m) => m[1]!));
    assert.ok(loaded.size > 0, "index.html names no script");
    for (const f of [...loaded]) {
      const text = readFileSync(join(assets, f), "utf8");
      for (const m of text.matchAll(/(?:from|import)\s*["'`]\.\/([^"'`]+\.js)["'`]/g)) loaded.add(m[1]!);
    }
    for (const f of loaded) assert.deepEqual(markersIn(join(assets, f)), [], `${f} is loaded with the page`);
    const withTsMls = scripts.filter((f) => markersIn(join(assets, f)).length > 0);
    assert.deepEqual(
      withTsMls.map((f) => f.replace(/-[\w-]{8}\.js$/, "")),
      ["ts-mls"],
      "ts-mls code only in the converter's chunk",
    );
    // ...which the app reaches through a dynamic import() only.
    const entry = [...loaded].map((f) => readFileSync(join(assets, f), "utf8")).join("\n");
    assert.match(entry, new RegExp(`import\\(\\s*["'\`]\\./${withTsMls[0]!.replace(/[.-]/g, "\\$&")}`));
  });
});
