/**
 * The web app on a relay of two nodes with names of their own (PostgreSQL + NATS, real processes,
 * each serving the app with both nodes as `--public-origin`): the page learns the other node from
 * `/v1/limits` and goes on through it when the node it was loaded from is killed (SIGKILL).
 * Needs Chromium, PostgreSQL and NATS; without them skipped with a line (CI=true: a failure).
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { createServer, Socket } from "node:net";
import { userInfo } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { type RelayProcess, startRelayProcess } from "@parley/testkit";
import pg from "pg";
import { type Browser, chromium, type Page } from "playwright-core";
import { browserSuiteUnavailable, CHROMIUM, CHROMIUM_ARGS, OUTPUT, WEB_DIST } from "./helpers.js";

const PG_URL =
  process.env.PARLEY_TEST_PG_URL ??
  `postgres://${process.env.PGUSER ?? userInfo().username}@127.0.0.1:5432/test`;
const NATS_URL = process.env.PARLEY_TEST_NATS_URL ?? "nats://127.0.0.1:4222";

function reachable(url: string, defaultPort: number): Promise<string | null> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const s = new Socket();
    const done = (why: string | null) => {
      s.destroy();
      resolve(why);
    };
    s.setTimeout(3000, () => done(`${url} unreachable: timeout`));
    s.once("error", (e) => done(`${url} unreachable: ${e.message}`));
    s.connect(Number(u.port || defaultPort), u.hostname, () => done(null));
  });
}

async function skipReason(): Promise<string | false> {
  const why = [
    browserSuiteUnavailable(),
    await reachable(PG_URL, 5432),
    await reachable(NATS_URL, 4222),
  ].filter((r): r is string => r !== null);
  if (why.length === 0) return false;
  if (process.env.CI === "true")
    throw new Error(`CI=true and the web cluster test cannot run: ${why.join("; ")}`);
  process.stdout.write(`# skipped: ${why.join("; ")}\n`);
  return why.join("; ");
}

/** A port free right now (the nodes must know each other's origin before they start). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

const skip = await skipReason();

describe("web app on a relay of two nodes", { skip, timeout: 240_000 }, () => {
  it("the page goes on chatting through node 2 when node 1, the one it was loaded from, is killed", async (t) => {
    const schema = `t_${randomBytes(6).toString("hex")}`;
    const cleanups: (() => Promise<unknown> | unknown)[] = [];
    t.after(async () => {
      for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => {});
      const admin = new pg.Client({ connectionString: PG_URL });
      await admin.connect();
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).finally(() => admin.end());
    });
    const ports = [await freePort(), await freePort()];
    const origins = ports.map((p) => `http://127.0.0.1:${p}`);
    const store = new URL(PG_URL);
    store.searchParams.set("schema", schema);
    const args = [
      "--store",
      store.toString(),
      "--bus",
      `${NATS_URL}?prefix=t${randomBytes(6).toString("hex")}`,
      "--static",
      WEB_DIST,
      "--log-level",
      "warn",
      ...origins.flatMap((o) => ["--public-origin", o]),
    ];
    const nodes: RelayProcess[] = [];
    for (const port of ports) {
      const node = await startRelayProcess({ args, port, startDeadlineMs: 30_000 });
      cleanups.push(() => node.stop(5000));
      nodes.push(node);
    }

    // What the page is told, and the CSP that lets it reach exactly those origins.
    const limits = (await (await fetch(`${origins[0]}/v1/limits`)).json()) as { nodes?: string[] };
    assert.deepEqual(limits.nodes, origins);
    const csp = (await fetch(`${origins[0]}/`)).headers.get("content-security-policy") ?? "";
    for (const o of origins) {
      assert.ok(csp.includes(o) && csp.includes(o.replace("http:", "ws:")), `connect-src has ${o}: ${csp}`);
    }
    const preflight = await fetch(`${origins[1]}/v1/send/x`, {
      method: "OPTIONS",
      headers: { origin: origins[0]!, "access-control-request-method": "POST" },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get("access-control-allow-origin"), origins[0]);
    const foreign = await fetch(`${origins[1]}/v1/limits`, { headers: { origin: "http://evil.example" } });
    assert.equal(foreign.headers.get("access-control-allow-origin"), null, "no CORS for other origins");

    const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    cleanups.push(() => browser.close());
    const problems: string[] = [];
    const page = async (url: string): Promise<Page> => {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      const p = await context.newPage();
      p.setDefaultTimeout(30_000);
      p.on("console", (m) => {
        if (/Content.Security.Policy/i.test(m.text())) problems.push(m.text());
      });
      p.on("pageerror", (e) => problems.push(e.message));
      await p.goto(url);
      return p;
    };
    const onboard = async (p: Page, name: string, passphrase: string) => {
      await p.getByLabel("Display name").fill(name);
      await p.getByLabel("Passphrase", { exact: true }).fill(passphrase);
      await p.getByLabel("Confirm passphrase").fill(passphrase);
      await p.getByRole("button", { name: "Create profile" }).click();
      await p.getByRole("button", { name: "Invite someone" }).waitFor();
    };
    const log = (p: Page) => p.getByRole("log", { name: "Messages" });
    const say = async (from: Page, to: Page, text: string) => {
      const composer = from.getByRole("textbox", { name: "Message" });
      await composer.fill(text);
      await composer.press("Enter");
      await log(to).getByText(text, { exact: true }).waitFor();
    };

    // Alice's page comes from node 1 (her queues are there), Bob's from node 2.
    const alice = await page(`${origins[0]}/`);
    await onboard(alice, "Alice", "alice correct horse battery");
    await alice.getByRole("button", { name: "Invite someone" }).click();
    const inviteDialog = alice.getByRole("dialog", { name: "Invite someone" });
    const link = await inviteDialog.getByLabel("Invite link").inputValue();
    await inviteDialog.getByRole("button", { name: "Done" }).click();
    const bob = await page(`${origins[1]}/`);
    await onboard(bob, "Bob", "bob purple elephant staple");
    await bob.getByRole("button", { name: "Add contact" }).click();
    const add = bob.getByRole("dialog", { name: "Add contact" });
    await add.getByLabel("Invite link").fill(link);
    await add.getByRole("button", { name: "Add contact" }).click();
    await bob.getByRole("heading", { level: 2, name: "Alice" }).waitFor();
    const composer = bob.getByRole("textbox", { name: "Message" });
    await composer.fill("Hi Alice, Bob here (node 2).");
    await composer.press("Enter");
    await alice.getByLabel("1 unread message").waitFor();
    await alice
      .getByRole("navigation", { name: "Conversations" })
      .getByRole("button", { name: /^Bob/ })
      .click();
    await log(alice).getByText("Hi Alice, Bob here (node 2).").waitFor();
    await say(alice, bob, "Hello Bob, Alice here (node 1).");

    // Node 1 dies: Alice's page keeps chatting through node 2.
    nodes[0]!.kill();
    await nodes[0]!.exited(10_000);
    await say(alice, bob, "Node 1 is gone and I am still here.");
    await say(bob, alice, "Got it, through node 2.");
    await alice.getByRole("status").getByText("Connected").waitFor();
    await log(bob)
      .locator("li.mine", { hasText: "through node 2" })
      .getByText(/^(Delivered|Read)$/)
      .waitFor();

    mkdirSync(OUTPUT, { recursive: true });
    await alice.screenshot({ path: join(OUTPUT, "web-cluster-failover.png") });
    assert.deepEqual(problems, [], "no CSP violation or page error");
  });
});
