/**
 * The web app end to end, in real headless Chromium (Debian's package, driven by playwright-core),
 * against a real relay process serving the built app, with a real CLI user on the other side.
 */
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, afterEach, before, describe, it } from "node:test";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
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

const PASS = {
  alice: "alice correct horse battery",
  bob: "bob purple elephant staple",
  carol: "carol quiet morning river",
};

const unavailable = browserSuiteUnavailable();

if (unavailable && process.env.CI === "true") {
  it("browser suite prerequisites are installed", () => {
    assert.fail(`CI=true but the browser suite cannot run: ${unavailable}`);
  });
} else {
  describe("web app in Chromium", { skip: unavailable ? `skipped: ${unavailable}` : false }, () => {
    let relay: RelayProcess;
    let browser: Browser;
    const contexts: BrowserContext[] = [];
    const cspViolations: string[] = [];
    const pageErrors: string[] = [];
    /** Every console error and warning, by page, to explain a failure (an engine error the app caught). */
    const consoleLines: string[] = [];
    const pages: { name: string; page: Page }[] = [];
    let alice: Page;
    let bob: Page;

    async function newUserPage(url?: string): Promise<Page> {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      contexts.push(context);
      const page = await context.newPage();
      page.setDefaultTimeout(20_000);
      const name = `page ${pages.length + 1}`;
      pages.push({ name, page });
      page.on("console", (msg) => {
        if (msg.type() === "error" && /Content.Security.Policy/i.test(msg.text()))
          cspViolations.push(msg.text());
        if (msg.type() === "error" || msg.type() === "warning")
          consoleLines.push(`${name} console.${msg.type()}: ${msg.text()}`);
      });
      page.on("pageerror", (e) => {
        pageErrors.push(e.message);
        consoleLines.push(`${name} pageerror: ${e.stack ?? e.message}`);
      });
      await page.goto(url ?? `${relay.url}/`);
      return page;
    }

    async function onboard(page: Page, name: string, passphrase: string): Promise<void> {
      await page.getByLabel("Display name").fill(name);
      await page.getByLabel("Passphrase", { exact: true }).fill(passphrase);
      await page.getByRole("button", { name: "Create profile" }).click();
      await page.getByRole("button", { name: "Invite someone" }).waitFor();
    }

    async function createInvite(page: Page): Promise<string> {
      await page.getByRole("button", { name: "Invite someone" }).click();
      const dialog = page.getByRole("dialog", { name: "Invite someone" });
      const link = await dialog.getByLabel("Invite link").inputValue();
      assert.match(link, /^http:\/\/127\.0\.0\.1:\d+\/#\/invite\/[A-Za-z0-9_-]{22}\/[A-Za-z0-9_-]{43}$/);
      assert.ok(await dialog.getByRole("img", { name: "Invite QR code" }).isVisible());
      await dialog.getByRole("button", { name: "Done" }).click();
      return link;
    }

    async function openConversation(page: Page, name: string): Promise<void> {
      await page
        .getByRole("navigation", { name: "Conversations" })
        .getByRole("button", { name: new RegExp(`^${name}`) })
        .click();
      await page.getByRole("heading", { level: 2, name }).waitFor();
    }

    const log = (page: Page) => page.getByRole("log", { name: "Messages" });
    const composer = (page: Page) => page.getByRole("textbox", { name: "Message" });

    async function sendWithEnter(page: Page, text: string): Promise<void> {
      await composer(page).fill(text);
      await composer(page).press("Enter");
      await log(page).getByText(text, { exact: true }).waitFor();
    }

    before(async () => {
      relay = await startRelay();
      browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    });

    // A timed-out wait says what did not appear, not why: print what the pages said instead.
    afterEach(async (context) => {
      const t = context as { name: string; passed?: boolean };
      if (t.passed !== false) return;
      const lines = [...consoleLines];
      for (const { name, page } of pages) {
        if (page.isClosed()) continue;
        const alerts = await page
          .getByRole("alert")
          .allInnerTexts()
          .catch(() => []);
        for (const a of alerts) lines.push(`${name} shows alert: ${a.replace(/\s+/g, " ")}`);
      }
      if (lines.length) console.log(`--- while "${t.name}" failed:\n${lines.join("\n")}`);
    });

    after(async () => {
      for (const c of contexts) await c.close().catch(() => {});
      await browser?.close().catch(() => {});
      await relay?.stop();
    });

    it("is served by the relay with a strict Content-Security-Policy and no inline script", async () => {
      const res = await fetch(`${relay.url}/`);
      assert.equal(res.status, 200);
      const csp = res.headers.get("content-security-policy") ?? "";
      for (const directive of [
        "default-src 'self'",
        "script-src 'self' 'wasm-unsafe-eval'",
        "style-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
      ]) {
        assert.ok(csp.includes(directive), `CSP has ${directive}: ${csp}`);
      }
      assert.match(csp, /connect-src 'self'/);
      assert.equal(res.headers.get("x-content-type-options"), "nosniff");
      assert.equal(res.headers.get("referrer-policy"), "no-referrer");
      const html = await res.text();
      const scripts = html.match(/<script\b[^>]*>/g) ?? [];
      assert.ok(scripts.length > 0);
      for (const tag of scripts)
        assert.match(tag, /\ssrc="\/assets\/[^"]+\.js"/, `external script only: ${tag}`);
      assert.doesNotMatch(html, /<script\b[^>]*>\s*[^<\s]/, "no inline script body");
      assert.doesNotMatch(html, /<style\b/, "no inline style");
    });

    it("two browser users onboard, exchange an invite and chat both ways in real time", {
      timeout: 120_000,
    }, async () => {
      alice = await newUserPage();
      await onboard(alice, "Alice", PASS.alice);
      const link = await createInvite(alice);

      bob = await newUserPage();
      await onboard(bob, "Bob", PASS.bob);
      await bob.getByRole("button", { name: "Add contact" }).click();
      const add = bob.getByRole("dialog", { name: "Add contact" });
      await add.getByLabel("Invite link").fill(link);
      await add.getByRole("button", { name: "Add contact" }).click();
      await bob.getByRole("heading", { level: 2, name: "Alice" }).waitFor();

      await sendWithEnter(bob, "Hi Alice, it's Bob.");
      // Alice is not looking at Bob's conversation: it appears with an unread count, in real time.
      await alice.getByLabel("1 unread message").waitFor();
      await openConversation(alice, "Bob");
      await log(alice).getByText("Hi Alice, it's Bob.").waitFor();
      assert.equal(await alice.getByLabel("1 unread message").count(), 0, "opening the chat reads it");

      // Bob's message shows as delivered once Alice's device has stored it and sent a receipt.
      await log(bob).locator("li.mine", { hasText: "Hi Alice" }).getByText("Delivered").waitFor();

      await composer(alice).fill("Hello Bob! Good to see you here.");
      await alice.getByRole("button", { name: "Send" }).click();
      await log(bob).getByText("Hello Bob! Good to see you here.").waitFor();
      await log(alice)
        .locator("li.mine", { hasText: "Hello Bob!" })
        .getByText(/Sent|Delivered/)
        .waitFor();

      // Message text is text, never markup.
      const markup = '<b>bold?</b> <img src="x" alt="y">';
      await sendWithEnter(bob, markup);
      await log(alice).getByText(markup, { exact: true }).waitFor();
      assert.equal(await log(alice).locator("b, img").count(), 0);

      await sendWithEnter(alice, "Shall we meet at the library at 4?");
      await log(bob).getByText("Shall we meet at the library at 4?").waitFor();
      await sendWithEnter(bob, "Yes, see you there.");
      await log(alice).getByText("Yes, see you there.").waitFor();
      await log(alice).locator("li.mine", { hasText: "library" }).getByText("Delivered").waitFor();
    });

    it("shows the same safety number on both sides and marks the contact verified", async () => {
      await alice.getByRole("button", { name: "Safety number" }).click();
      const aliceDialog = alice.getByRole("dialog", { name: "Safety number with Bob" });
      const aliceDigits = (await aliceDialog.locator(".safety-digits").getAttribute("aria-label")) ?? "";
      assert.match(aliceDigits, /^Safety number: (\d{5} ){11}\d{5}$/);
      assert.ok(await aliceDialog.getByRole("img", { name: /QR code of the safety number/ }).isVisible());

      await bob.getByRole("button", { name: "Safety number" }).click();
      const bobDialog = bob.getByRole("dialog", { name: "Safety number with Alice" });
      assert.equal(await bobDialog.locator(".safety-digits").getAttribute("aria-label"), aliceDigits);
      await bobDialog.getByRole("button", { name: "Close" }).first().click();

      await aliceDialog.getByRole("button", { name: "Mark as verified" }).click();
      await aliceDialog.getByText("You have verified Bob.").waitFor();
      await aliceDialog.getByRole("button", { name: "Close" }).first().click();
      await alice.getByText("Verified contact").waitFor();
    });

    it("saves a screenshot of the chat view (desktop and 360 px)", async () => {
      mkdirSync(OUTPUT, { recursive: true });
      await alice.screenshot({ path: join(OUTPUT, "web-chat-desktop.png") });
      await alice.setViewportSize({ width: 360, height: 740 });
      await composer(alice).waitFor();
      await alice.screenshot({ path: join(OUTPUT, "web-chat-mobile.png") });
      // At 360 px the conversation takes the screen; "back" returns to the list.
      await alice.getByRole("button", { name: "Back to conversations" }).click();
      await alice.getByRole("navigation", { name: "Conversations" }).waitFor();
      await alice.screenshot({ path: join(OUTPUT, "web-list-mobile.png") });
      await alice.setViewportSize({ width: 1280, height: 800 });
    });

    it("keeps nothing readable in IndexedDB: every value is ciphertext, keys hold no names", async () => {
      const raw = await alice.evaluate(async () => {
        const db = await new Promise<IDBDatabase>((resolve, reject) => {
          const request = indexedDB.open("parley");
          request.onsuccess = () => resolve(request.result);
          request.onerror = () => reject(request.error);
        });
        const store = db.transaction("kv").objectStore("kv");
        const read = <T>(request: IDBRequest<T>) =>
          new Promise<T>((resolve) => {
            request.onsuccess = () => resolve(request.result);
          });
        const keys = (await read(store.getAllKeys())) as string[];
        const values = (await read(store.getAll())) as Uint8Array[];
        db.close();
        const latin1 = values.map((v) =>
          Array.from(new Uint8Array(v), (b) => String.fromCharCode(b)).join(""),
        );
        return { keys, text: latin1.join("\n") };
      });
      assert.ok(raw.keys.includes("profile") && raw.keys.includes("!encrypted-store"), raw.keys.join(" "));
      assert.ok(raw.keys.some((k) => k.startsWith("msg/")));
      for (const secret of ["Alice", "Bob", "library", "see you there", "identitySecretKey", "sendId"]) {
        assert.ok(!raw.text.includes(secret), `"${secret}" is not stored in the clear`);
        assert.ok(!raw.keys.some((k) => k.includes(secret)), `"${secret}" is in no key`);
      }
    });

    it("keeps history across a reload, behind the passphrase; a wrong one is refused", {
      timeout: 60_000,
    }, async () => {
      await alice.reload();
      await alice.getByRole("heading", { name: "Unlock Parley" }).waitFor();
      assert.equal(await alice.getByText("Hi Alice, it's Bob.").count(), 0, "nothing shows before unlocking");

      await alice.getByLabel("Passphrase", { exact: true }).fill("not the passphrase");
      await alice.getByRole("button", { name: "Unlock" }).click();
      await alice.getByRole("alert").getByText("Wrong passphrase. Check it and try again.").waitFor();
      await alice.getByRole("heading", { name: "Unlock Parley" }).waitFor();

      await alice.getByLabel("Passphrase", { exact: true }).fill(PASS.alice);
      await alice.getByRole("button", { name: "Unlock" }).click();
      await openConversation(alice, "Bob");
      for (const text of ["Hi Alice, it's Bob.", "Hello Bob! Good to see you here.", "Yes, see you there."]) {
        await log(alice).getByText(text).waitFor();
      }
      // Still live after unlocking.
      await sendWithEnter(bob, "Back online?");
      await log(alice).getByText("Back online?").waitFor();
    });

    it("a browser user and a CLI user chat both ways", { timeout: 90_000 }, async () => {
      const home = tempDir("cli-dana");
      await parleyJson(home, "init", "--name", "Dana", "--server", relay.url);
      const link = await createInvite(alice);
      const contact = await parleyJson<{ name: string }>(home, "accept", link);
      assert.equal(contact.name, "Alice");
      await parleyJson(home, "send", "Alice", "Hello from the terminal");

      await alice
        .getByRole("navigation", { name: "Conversations" })
        .getByRole("button", { name: /^Dana/ })
        .waitFor();
      await openConversation(alice, "Dana");
      await log(alice).getByText("Hello from the terminal").waitFor();
      await sendWithEnter(alice, "Hello from the browser");

      const received = await eventually(
        async () => {
          const got = await parleyJson<{ text: string; from: string }[]>(home, "sync");
          return got.find((m) => m.text === "Hello from the browser");
        },
        20_000,
        "the CLI to receive the browser's message",
      );
      assert.equal(received.from, "Alice");
      // The CLI's sync sent a receipt: the browser shows the message as delivered.
      await log(alice)
        .locator("li.mine", { hasText: "Hello from the browser" })
        .getByText("Delivered")
        .waitFor();

      const history = await parleyJson<{ text: string; fromMe: boolean }[]>(home, "messages", "Alice");
      assert.deepEqual(
        history.map((m) => [m.fromMe, m.text]),
        [
          [true, "Hello from the terminal"],
          [false, "Hello from the browser"],
        ],
      );
      const cliSafety = await parleyJson<{ safetyNumber: string }>(home, "safety", "Alice");
      await alice.getByRole("button", { name: "Safety number" }).click();
      const dialog = alice.getByRole("dialog", { name: "Safety number with Dana" });
      const digits = (await dialog.locator(".safety-digits").getAttribute("aria-label")) ?? "";
      assert.equal(digits.replace(/\D/g, ""), cliSafety.safetyNumber);
      await dialog.getByRole("button", { name: "Close" }).first().click();
    });

    it("opened at an invite link, offers to accept it after onboarding; Lock and Wipe work", {
      timeout: 90_000,
    }, async () => {
      const link = await createInvite(alice);
      const carol = await newUserPage(link);
      await carol.getByText("You opened an invite").waitFor();
      assert.equal(new URL(carol.url()).hash, "", "the invite key is taken out of the address bar");
      await onboard(carol, "Carol", PASS.carol);
      const accept = carol.getByRole("dialog", { name: "Accept this invite?" });
      await accept.getByRole("button", { name: "Accept invite" }).click();
      await carol.getByRole("heading", { level: 2, name: "Alice" }).waitFor();
      await sendWithEnter(carol, "Carol here, via the link.");
      await alice
        .getByRole("navigation", { name: "Conversations" })
        .getByRole("button", { name: /^Carol/ })
        .waitFor();

      await carol.getByRole("button", { name: "Lock" }).click();
      await carol.getByRole("heading", { name: "Unlock Parley" }).waitFor();
      await carol.getByLabel("Passphrase", { exact: true }).fill(PASS.carol);
      await carol.getByRole("button", { name: "Unlock" }).click();
      await carol.getByRole("button", { name: "Wipe this device" }).click();
      await carol
        .getByRole("dialog", { name: "Wipe this device?" })
        .getByRole("button", { name: "Wipe everything" })
        .click();
      await carol.getByRole("heading", { name: "Welcome to Parley" }).waitFor();
      await carol.reload();
      await carol.getByRole("heading", { name: "Welcome to Parley" }).waitFor();
    });

    it("raised no Content-Security-Policy violation and no page error", () => {
      assert.deepEqual(cspViolations, []);
      assert.deepEqual(pageErrors, []);
    });
  });
}
