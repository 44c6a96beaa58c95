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
      await page.getByLabel("Confirm passphrase").fill(passphrase);
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
      // The app's modules, and public/lang.js, which sets <html lang> before the first paint.
      for (const tag of scripts)
        assert.match(tag, /\ssrc="\/(assets\/[^"]+|lang)\.js"/, `external script only: ${tag}`);
      assert.ok(scripts.some((tag) => tag.includes('src="/lang.js"')));
      const lang = await fetch(`${relay.url}/lang.js`);
      assert.equal(lang.status, 200);
      assert.match(lang.headers.get("content-type") ?? "", /^text\/javascript/);
      assert.doesNotMatch(html, /<script\b[^>]*>\s*[^<\s]/, "no inline script body");
      assert.doesNotMatch(html, /<style\b/, "no inline style");
    });

    it("two browser users onboard, exchange an invite and chat both ways in real time", {
      timeout: 120_000,
    }, async () => {
      alice = await newUserPage();
      // A mistyped confirmation is caught before anything is created.
      await alice.getByLabel("Display name").fill("Alice");
      await alice.getByLabel("Passphrase", { exact: true }).fill(PASS.alice);
      await alice.getByLabel("Confirm passphrase").fill(`${PASS.alice}x`);
      await alice.getByRole("button", { name: "Create profile" }).click();
      await alice
        .getByRole("alert")
        .getByText("The two passphrases are not the same. Type it again.")
        .waitFor();
      await onboard(alice, "Alice", PASS.alice);
      const link = await createInvite(alice);

      bob = await newUserPage();
      await onboard(bob, "Bob", PASS.bob);
      // A new user with no contact and no invite has no queue to watch: still "Connected", not
      // "Connecting…" for ever (issue 14).
      await bob.getByRole("status").getByText("Connected").waitFor();
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
      await log(bob)
        .locator("li.mine", { hasText: "Hi Alice" })
        .getByText(/^(Delivered|Read)$/)
        .waitFor();

      await composer(alice).fill("Hello Bob! Good to see you here.");
      await alice.getByRole("button", { name: "Send" }).click();
      await log(bob).getByText("Hello Bob! Good to see you here.").waitFor();
      await log(alice)
        .locator("li.mine", { hasText: "Hello Bob!" })
        .getByText(/Sent|Delivered|Read/)
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
      await log(alice)
        .locator("li.mine", { hasText: "library" })
        .getByText(/^(Delivered|Read)$/)
        .waitFor();
    });

    it("shows a failure that used to be swallowed: the read marker cannot be saved (storage full)", {
      timeout: 60_000,
    }, async () => {
      // Alice has Bob's chat open. Her browser's storage refuses the record of what she has read (the
      // web app's own "web/read/…" key, in clear as every store key): a message arriving in the open
      // chat cannot be marked read. Up to now that failure went nowhere; the banner says it now.
      await alice.evaluate(() => {
        const put = IDBObjectStore.prototype.put;
        const w = window as unknown as { restorePut?: () => void };
        w.restorePut = () => {
          IDBObjectStore.prototype.put = put;
        };
        IDBObjectStore.prototype.put = function (this: IDBObjectStore, value: unknown, key?: IDBValidKey) {
          if (typeof key === "string" && key.startsWith("web/read/"))
            throw new DOMException("The quota has been exceeded.", "QuotaExceededError");
          return put.call(this, value, key);
        };
      });
      try {
        await sendWithEnter(bob, "Did you get this?");
        await log(alice).getByText("Did you get this?").waitFor();
        const banner = alice
          .getByRole("alert")
          .filter({ hasText: "Could not save which messages you have read" });
        await banner.getByText("The quota has been exceeded.", { exact: false }).waitFor();
        mkdirSync(OUTPUT, { recursive: true });
        await alice.screenshot({ path: join(OUTPUT, "web-notice-read-failed.png") });
        await banner.getByRole("button", { name: "Dismiss" }).click();
        await banner.waitFor({ state: "detached" });
      } finally {
        await alice.evaluate(() => (window as unknown as { restorePut?: () => void }).restorePut?.());
      }
      // The message itself was kept (the engine's own records were not refused), and all goes on.
      await sendWithEnter(alice, "Yes, got it.");
      await log(bob).getByText("Yes, got it.").waitFor();
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
        // A short name is looked for as a record would hold it, JSON with its quotes: three bytes
        // alone turn up by chance in the store's megabyte or so of ciphertext (one position in 16.7
        // million), and in its random base64url ids; this test failed so once in CI.
        const short = secret.length < 6;
        const stored = short ? JSON.stringify(secret) : secret;
        assert.ok(!raw.text.includes(stored), `${stored} is not stored in the clear`);
        const inKey = (k: string) => (short ? k.split("/").includes(secret) : k.includes(secret));
        assert.ok(!raw.keys.some(inKey), `"${secret}" is in no key`);
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

    it("a second tab of the same profile takes over: the first locks itself and says why", {
      timeout: 60_000,
    }, async () => {
      const second = await alice.context().newPage();
      second.setDefaultTimeout(20_000);
      second.on("pageerror", (e) => pageErrors.push(e.message));
      try {
        await second.goto(`${relay.url}/`);
        await second.getByRole("heading", { name: "Unlock Parley" }).waitFor();
        await second.getByLabel("Passphrase", { exact: true }).fill(PASS.alice);
        await second.getByRole("button", { name: "Unlock" }).click();
        await openConversation(second, "Bob");
        // The first tab is locked, with the reason, and shows nothing of the chats any more.
        await alice.getByRole("heading", { name: "Unlock Parley" }).waitFor();
        await alice.getByText("Parley was opened in another tab").waitFor();
        assert.equal(await alice.getByText("Hi Alice, it's Bob.").count(), 0);
        await alice.screenshot({ path: join(OUTPUT, "web-second-tab-took-over.png") });
        // The tab in use is live.
        await sendWithEnter(bob, "Which tab is this?");
        await log(second).getByText("Which tab is this?").waitFor();
      } finally {
        await second.close();
      }
      // Unlocking the first tab again makes it the one in use.
      await alice.getByLabel("Passphrase", { exact: true }).fill(PASS.alice);
      await alice.getByRole("button", { name: "Unlock" }).click();
      await openConversation(alice, "Bob");
      await log(alice).getByText("Which tab is this?").waitFor();
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
        .getByText(/^(Delivered|Read)$/)
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

    it("renames a contact and deletes them with their chat, from the chat's Contact dialog", {
      timeout: 90_000,
    }, async () => {
      await openConversation(alice, "Dana");
      await alice.getByRole("button", { name: "Contact", exact: true }).click();
      const dialog = alice.getByRole("dialog", { name: "Contact" });
      await dialog.getByRole("button", { name: "Rename" }).click();
      await dialog.getByLabel("Your name for this contact").fill("Bob");
      await dialog.getByRole("button", { name: "Save name" }).click();
      await dialog.getByRole("alert").getByText("You already have a contact called “Bob”").waitFor();
      await dialog.getByLabel("Your name for this contact").fill("Dana from the terminal");
      await dialog.getByRole("button", { name: "Save name" }).click();
      await dialog.getByText("Dana from the terminal", { exact: true }).waitFor();
      await alice
        .getByRole("navigation", { name: "Conversations" })
        .getByRole("button", { name: /^Dana from the terminal/ })
        .waitFor();
      await alice.getByRole("heading", { name: "Dana from the terminal" }).waitFor();

      await dialog.getByRole("button", { name: "Delete contact" }).click();
      const confirm = alice.getByRole("dialog", { name: "Delete Dana from the terminal?" });
      await confirm.getByText("They are not told").waitFor();
      await alice.screenshot({ path: join(OUTPUT, "web-contact-delete.png") });
      await confirm.getByRole("button", { name: "Delete Dana from the terminal" }).click();
      await confirm.waitFor({ state: "detached" });
      await alice
        .getByRole("navigation", { name: "Conversations" })
        .getByRole("button", { name: /^Dana/ })
        .waitFor({ state: "detached" });
      assert.equal(
        await alice.getByText("Hello from the terminal").count(),
        0,
        "the deleted chat is still shown",
      );
    });

    it("lays out right-to-left text right to left, in the bubble and in the box", async () => {
      await openConversation(alice, "Bob");
      await openConversation(bob, "Alice");
      await sendWithEnter(bob, "שלום, מה שלומך?");
      const text = log(alice).locator("p.text", { hasText: "שלום, מה שלומך?" });
      await text.waitFor();
      assert.equal(await text.evaluate((el) => getComputedStyle(el).direction), "rtl");
      await composer(alice).fill("مرحبا");
      assert.equal(await composer(alice).evaluate((el) => getComputedStyle(el).direction), "rtl");
      await composer(alice).fill("");
      const english = log(alice).locator("p.text", { hasText: "Back online?" }).first();
      assert.equal(await english.evaluate((el) => getComputedStyle(el).direction), "ltr");
    });

    it("notifies of new messages only as allowed: off, then without text, with previews, never when muted; archive", {
      timeout: 90_000,
    }, async () => {
      // The browser's Notification, recorded instead of shown (headless Chromium has no desktop).
      await alice.evaluate(() => {
        const shown: { title: string; body: string }[] = [];
        (window as unknown as { shownNotes: typeof shown }).shownNotes = shown;
        class Recorded {
          static permission = "granted";
          static requestPermission = async () => "granted";
          constructor(title: string, options: { body: string }) {
            shown.push({ title, body: options.body });
          }
        }
        (window as unknown as { Notification: unknown }).Notification = Recorded;
      });
      const notes = () =>
        alice.evaluate(
          () => (window as unknown as { shownNotes: { title: string; body: string }[] }).shownNotes,
        );
      const list = alice.getByRole("navigation", { name: "Conversations" });
      const bobSays = async (text: string) => {
        await composer(bob).fill(text);
        await composer(bob).press("Enter");
        await log(bob).getByText(text, { exact: true }).waitFor();
        await list.getByText(text).waitFor(); // arrived: the list's preview shows it
      };
      /** Alice looks at her list, not at Bob's chat (a phone's width, where the list is a view of its own). */
      const toList = async () => {
        await alice.setViewportSize({ width: 360, height: 740 });
        const back = alice.getByRole("button", { name: "Back to conversations" });
        if (await back.isVisible()) await back.click();
        await list.waitFor();
      };
      await openConversation(bob, "Alice");
      try {
        await toList();
        await bobSays("not notified: notifications are off");
        assert.deepEqual(await notes(), []);

        await alice.getByRole("button", { name: "Settings" }).click();
        const settings = alice.getByRole("dialog", { name: "Settings" });
        await settings.getByLabel("Notify me of new messages while Parley is in the background").check();
        await settings.getByRole("button", { name: "Done" }).click();
        await bobSays("a secret plan");
        await eventually(async () => (await notes()).length === 1 || undefined, 5000, "a notification");
        assert.deepEqual(await notes(), [{ title: "Parley", body: "New message" }], "no name, no text");

        await alice.getByRole("button", { name: "Settings" }).click();
        await settings.getByLabel("Show who wrote and what").check();
        await alice.setViewportSize({ width: 1280, height: 800 });
        await alice.screenshot({ path: join(OUTPUT, "web-settings.png") });
        await settings.getByRole("button", { name: "Done" }).click();
        await toList();
        await bobSays("with a preview");
        await eventually(
          async () => (await notes()).length === 2 || undefined,
          5000,
          "a second notification",
        );
        assert.deepEqual((await notes())[1], { title: "Bob", body: "with a preview" });

        await alice.setViewportSize({ width: 1280, height: 800 });
        await openConversation(alice, "Bob");
        await alice.getByRole("button", { name: "Contact", exact: true }).click();
        const contact = alice.getByRole("dialog", { name: "Contact" });
        await contact.getByRole("button", { name: "Mute" }).click();
        await contact.getByRole("button", { name: "Unmute" }).waitFor();
        await contact.getByRole("button", { name: "Close" }).first().click();
        await toList();
        await bobSays("muted: no notification");
        await new Promise((r) => setTimeout(r, 300));
        assert.equal((await notes()).length, 2);

        // Archived: out of the list, back when something new arrives (it is not muted any more).
        await alice.setViewportSize({ width: 1280, height: 800 });
        await openConversation(alice, "Bob");
        await alice.getByRole("button", { name: "Contact", exact: true }).click();
        await contact.getByRole("button", { name: "Unmute" }).click();
        await contact.getByRole("button", { name: "Archive" }).click();
        await contact.getByRole("button", { name: "Unarchive" }).waitFor();
        await contact.getByRole("button", { name: "Close" }).first().click();
        await toList();
        await list.getByRole("button", { name: "Archived (1)" }).waitFor();
        assert.equal(await list.getByRole("button", { name: /^Bob/ }).count(), 0);
        await alice.screenshot({ path: join(OUTPUT, "web-archived-mobile.png") });
        await composer(bob).fill("back from the archive");
        await composer(bob).press("Enter");
        await list.getByRole("button", { name: /^Bob/ }).waitFor();
        assert.equal(await list.getByRole("button", { name: /^Archived/ }).count(), 0);
      } finally {
        await alice.setViewportSize({ width: 1280, height: 800 });
      }
    });

    // ---- groups ------------------------------------------------------------------------------------

    let erin: Page;
    const fredHome = tempDir("cli-fred");
    const chatRow = (page: Page, name: string | RegExp) =>
      page
        .getByRole("navigation", { name: "Conversations" })
        .getByRole("button", { name: typeof name === "string" ? new RegExp(`^${name}`) : name });
    const groupInfo = (page: Page) => page.getByRole("dialog", { name: "Group info" });
    /** The message bubble holding `text`, in the open chat. */
    const bubble = (page: Page, text: string) => log(page).locator("li.message", { hasText: text });

    async function openGroupInfo(page: Page) {
      await page.getByRole("button", { name: "Group info" }).click();
      await groupInfo(page)
        .getByRole("list", { name: /^Members/ })
        .waitFor();
    }
    async function closeDialog(page: Page) {
      await page.getByRole("dialog").getByRole("button", { name: "Done" }).click();
      await page.getByRole("dialog").waitFor({ state: "detached" });
    }

    it("groups: create, add several at once, everyone talks in real time, a CLI member too", {
      timeout: 150_000,
    }, async () => {
      // Erin, a third browser user, becomes Alice's contact (not Bob's).
      erin = await newUserPage();
      await onboard(erin, "Erin", "erin gentle autumn lantern");
      const link = await createInvite(alice);
      await erin.getByRole("button", { name: "Add contact" }).click();
      await erin.getByRole("dialog", { name: "Add contact" }).getByLabel("Invite link").fill(link);
      await erin
        .getByRole("dialog", { name: "Add contact" })
        .getByRole("button", { name: "Add contact" })
        .click();
      await erin.getByRole("heading", { level: 2, name: "Alice" }).waitFor();
      await chatRow(alice, "Erin").waitFor();

      // Fred uses the CLI and invited Alice, but has not run Parley since: Alice has no key package of his.
      await parleyJson(fredHome, "init", "--name", "Fred", "--server", relay.url);
      const fredInvite = await parleyJson<{ link: string }>(fredHome, "invite");
      await alice.getByRole("button", { name: "Add contact" }).click();
      await alice
        .getByRole("dialog", { name: "Add contact" })
        .getByLabel("Invite link")
        .fill(fredInvite.link);
      await alice
        .getByRole("dialog", { name: "Add contact" })
        .getByRole("button", { name: "Add contact" })
        .click();
      await alice.getByRole("heading", { level: 2, name: "Fred" }).waitFor();

      // New group → its (empty) chat.
      await alice.getByRole("button", { name: "New group" }).click();
      const create = alice.getByRole("dialog", { name: "New group" });
      await create.getByLabel("Group name").fill("Book club");
      // Post-quantum (MLS suite X-Wing) is offered, and off unless chosen.
      assert.equal(await create.getByRole("checkbox", { name: "Post-quantum group" }).isChecked(), false);
      await create.getByRole("button", { name: "Create group" }).click();
      await alice.getByRole("heading", { level: 2, name: "Book club" }).waitFor();
      await log(alice).getByText("You created the group").waitFor();
      await log(alice).getByText("Only you are in “Book club” so far.").waitFor();

      // Add people: several at once. Fred cannot be added yet, and the app says why, in plain words.
      await log(alice).getByRole("button", { name: "Add people" }).click();
      const add = alice.getByRole("dialog", { name: "Add people" });
      for (const name of ["Bob", "Erin", "Fred"]) await add.getByRole("checkbox", { name }).check();
      await add.getByRole("button", { name: "Add 3 people" }).click();
      await add
        .getByRole("alert")
        .getByText("Fred can’t be added yet: their Parley has not been online since you connected.", {
          exact: false,
        })
        .waitFor();
      mkdirSync(OUTPUT, { recursive: true });
      await alice.screenshot({ path: join(OUTPUT, "web-group-add-error.png") });
      await add.getByRole("checkbox", { name: "Fred" }).uncheck();
      await add.getByRole("button", { name: "Add 2 people" }).click();
      await groupInfo(alice).getByRole("status").getByText("You added Bob and Erin.").waitFor();
      assert.equal(await groupInfo(alice).getByRole("listitem").count(), 3);
      await closeDialog(alice);
      await log(alice).getByText("You added Bob and Erin").waitFor();
      await alice.getByText("3 members").waitFor();

      // Bob and Erin see the group appear, with who added them.
      for (const page of [bob, erin]) {
        await chatRow(page, "Book club").waitFor();
        await openConversation(page, "Book club");
        await log(page).getByText("Alice added you to the group").waitFor();
        await page.getByText("3 members").waitFor();
      }

      // Everyone talks, in real time; each message names its sender.
      await sendWithEnter(alice, "Welcome to the book club!");
      for (const page of [bob, erin]) {
        await bubble(page, "Welcome to the book club!").locator(".sender", { hasText: "Alice" }).waitFor();
      }
      await sendWithEnter(bob, "Thanks, Alice!");
      await bubble(alice, "Thanks, Alice!").locator(".sender", { hasText: "Bob" }).waitFor();
      // Erin and Bob are not contacts: Erin's app says so.
      await bubble(erin, "Thanks, Alice!").locator(".sender", { hasText: "Bob · not a contact" }).waitFor();
      await sendWithEnter(erin, "Hello everyone");
      await bubble(alice, "Hello everyone").locator(".sender", { hasText: "Erin" }).waitFor();
      await bubble(bob, "Hello everyone").waitFor();
      // Alice, looking at another chat, gets an unread count on the group.
      await openConversation(alice, "Bob");
      await sendWithEnter(bob, "Alice, are you there?");
      await chatRow(alice, "Book club").getByLabel("1 unread message").waitFor();
      await openConversation(alice, "Book club");
      assert.equal(
        await chatRow(alice, "Book club")
          .getByLabel(/unread/)
          .count(),
        0,
      );

      // Fred opens Parley once (sync): his key packages reach Alice; then Alice adds him.
      await parleyJson(fredHome, "sync");
      await parleyJson(fredHome, "send", "Alice", "I am here now");
      await chatRow(alice, "Fred").getByText("I am here now").waitFor();
      await alice.getByRole("button", { name: "Group info" }).click();
      await groupInfo(alice).getByRole("button", { name: "Add people" }).click();
      await add.getByRole("checkbox", { name: "Fred" }).check();
      await add.getByRole("button", { name: "Add to group" }).click();
      await groupInfo(alice).getByRole("status").getByText("You added Fred.").waitFor();
      await closeDialog(alice);
      await bob.getByText("4 members").waitFor();
      await log(bob).getByText("A new member was added").waitFor(); // his name comes once he has opened Parley

      await parleyJson(fredHome, "sync"); // joins
      await sendWithEnter(alice, "Fred, welcome");
      const fredGot = await eventually(
        async () => {
          const got = await parleyJson<{ text: string; from: string; conversation: string }[]>(
            fredHome,
            "sync",
          );
          return got.find((m) => m.text === "Fred, welcome");
        },
        20_000,
        "the CLI member to receive the group message",
      );
      assert.equal(fredGot.conversation, "Book club");
      const fredHistory = await parleyJson<{ text: string }[]>(fredHome, "messages", "Book club");
      assert.ok(
        !fredHistory.some((m) => m.text === "Welcome to the book club!"),
        "a member who joins later cannot read what was said before",
      );
      await parleyJson(fredHome, "send", "Book club", "Hi from the terminal");
      await bubble(alice, "Hi from the terminal").locator(".sender", { hasText: "Fred" }).waitFor();
      await bubble(bob, "Hi from the terminal").waitFor();
      await bubble(erin, "Hi from the terminal").waitFor();
    });

    it("groups: the members panel shows roles and safety; admins make admins, rename, remove", {
      timeout: 120_000,
    }, async () => {
      // Alice (admin) sees everyone with their safety status; she verified Bob earlier.
      await openGroupInfo(alice);
      const aliceInfo = groupInfo(alice);
      const row = (dialog: ReturnType<typeof groupInfo>, name: string) =>
        dialog.getByRole("listitem").filter({ hasText: name });
      await row(aliceInfo, "Alice (you)").getByText("admin").waitFor();
      await row(aliceInfo, "Bob").getByText("Verified contact").waitFor();
      await row(aliceInfo, "Erin").getByText("Contact, not verified").waitFor();
      assert.equal(await aliceInfo.getByRole("listitem").count(), 4);

      // Bob is a plain member: no admin controls, and Erin is not his contact.
      await openGroupInfo(bob);
      const bobInfo = groupInfo(bob);
      await row(bobInfo, "Erin").getByText("Not one of your contacts").waitFor();
      assert.equal(
        await bobInfo.getByRole("button", { name: /Add people|Remove|Make admin|Rename/ }).count(),
        0,
      );
      await bobInfo.getByRole("button", { name: "Leave group" }).waitFor();
      await closeDialog(bob);

      // Alice makes Bob an admin: Bob's app says so and gives him the admin controls.
      await aliceInfo.getByRole("button", { name: "Make admin (Bob)" }).click();
      await aliceInfo.getByRole("status").getByText("You made Bob an admin.").waitFor();
      await row(aliceInfo, "Bob").getByText("admin", { exact: true }).waitFor();
      await log(bob).getByText("You are now an admin").waitFor();
      await openGroupInfo(bob);
      await groupInfo(bob).getByRole("button", { name: "Add people" }).waitFor();
      await closeDialog(bob);

      // Rename (admins only): everyone sees the new name.
      await aliceInfo.getByRole("button", { name: "Rename" }).click();
      const rename = alice.getByRole("dialog", { name: "Rename group" });
      await rename.getByLabel("Group name").fill("Readers");
      await rename.getByRole("button", { name: "Save name" }).click();
      await aliceInfo.getByRole("status").getByText("You renamed the group to “Readers”.").waitFor();
      for (const page of [bob, erin]) {
        await page.getByRole("heading", { level: 2, name: "Readers" }).waitFor();
        await log(page).getByText("The group is now called “Readers”").waitFor();
      }

      // Remove Erin, after a confirmation. She sees that she was removed, and gets nothing more.
      await aliceInfo.getByRole("button", { name: "Remove (Erin)" }).click();
      await alice
        .getByRole("dialog", { name: "Remove from group?" })
        .getByRole("button", { name: "Remove Erin" })
        .click();
      await aliceInfo.getByRole("status").getByText("You removed Erin.").waitFor();
      assert.equal(await aliceInfo.getByRole("listitem").count(), 3);
      await closeDialog(alice);
      await erin
        .getByRole("status")
        .getByText("An admin removed you from this group.", { exact: false })
        .waitFor();
      await log(erin).getByText("An admin removed you from the group").waitFor();
      assert.equal(await composer(erin).count(), 0, "no composer once removed");
      await log(bob).getByText("Erin is no longer in the group").waitFor();

      await sendWithEnter(alice, "Erin cannot read this");
      await bubble(bob, "Erin cannot read this").waitFor();
      await eventually(
        async () =>
          (await parleyJson<{ text: string }[]>(fredHome, "sync")).find(
            (m) => m.text === "Erin cannot read this",
          ),
        20_000,
        "the CLI member to receive a message sent after the removal",
      );
      await sendWithEnter(bob, "Nor this");
      await bubble(alice, "Nor this").waitFor();
      await erin.waitForTimeout(1500); // time enough for a message to arrive, if one could
      assert.equal(await log(erin).getByText("Erin cannot read this").count(), 0);
      assert.equal(await log(erin).getByText("Nor this").count(), 0);
      // After a reload too: the list says what happened.
      await erin.reload();
      await erin.getByLabel("Passphrase", { exact: true }).fill("erin gentle autumn lantern");
      await erin.getByRole("button", { name: "Unlock" }).click();
      await chatRow(erin, "Readers").getByText("An admin removed you from the group").waitFor();
    });

    it("saves screenshots of the group chat and its members panel (desktop and 360 px)", async () => {
      mkdirSync(OUTPUT, { recursive: true });
      await alice.screenshot({ path: join(OUTPUT, "web-group-desktop.png") });
      await openGroupInfo(alice);
      await alice.screenshot({ path: join(OUTPUT, "web-group-info-desktop.png") });
      await closeDialog(alice);
      await alice.setViewportSize({ width: 360, height: 740 });
      await composer(alice).waitFor();
      await alice.screenshot({ path: join(OUTPUT, "web-group-mobile.png") });
      await openGroupInfo(alice);
      await alice.screenshot({ path: join(OUTPUT, "web-group-info-mobile.png") });
      await closeDialog(alice);
      await alice.getByRole("button", { name: "Back to conversations" }).click();
      await alice.screenshot({ path: join(OUTPUT, "web-group-list-mobile.png") });
      await alice.setViewportSize({ width: 1280, height: 800 });
      await erin.setViewportSize({ width: 360, height: 740 });
      await openConversation(erin, "Readers");
      await erin.screenshot({ path: join(OUTPUT, "web-group-removed-mobile.png") });
    });

    it("groups: a member leaves; an admin's app takes them out for everyone", {
      timeout: 60_000,
    }, async () => {
      await openConversation(alice, "Readers");
      await openGroupInfo(bob);
      await groupInfo(bob).getByRole("button", { name: "Leave group" }).click();
      await bob
        .getByRole("dialog", { name: "Leave group?" })
        .getByRole("button", { name: "Leave group" })
        .click();
      await bob.getByRole("status").getByText("You left this group.", { exact: false }).waitFor();
      await log(bob).getByText("You left the group").waitFor();
      // He left on his own: said so, once (not "removed" when a member's app then takes him out).
      await log(alice).getByText("Bob left the group").waitFor();
      await alice.getByText("2 members").waitFor();
      assert.equal(await log(alice).getByText("Bob is no longer in the group").count(), 0);
      await alice.screenshot({ path: join(OUTPUT, "web-group-member-left.png") });
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
      // Sent before Lock: a Lock while it is being sent locks the store under it ("not sent").
      await log(carol)
        .locator("li.mine", { hasText: "Carol here" })
        .getByText(/Sent|Delivered|Read/)
        .waitFor();
      await alice
        .getByRole("navigation", { name: "Conversations" })
        .getByRole("button", { name: /^Carol/ })
        .waitFor();

      await carol.getByRole("button", { name: "Lock" }).click();
      await carol.getByRole("heading", { name: "Unlock Parley" }).waitFor();
      await carol.getByLabel("Passphrase", { exact: true }).fill(PASS.carol);
      await carol.getByRole("button", { name: "Unlock" }).click();
      await carol.getByRole("button", { name: "Settings" }).click();
      await carol
        .getByRole("dialog", { name: "Settings" })
        .getByRole("button", { name: "Wipe this device" })
        .click();
      await carol
        .getByRole("dialog", { name: "Wipe this device?" })
        .getByRole("button", { name: "Wipe everything" })
        .click();
      await carol.getByRole("heading", { name: "Welcome to Parley" }).waitFor();
      await carol.reload();
      await carol.getByRole("heading", { name: "Welcome to Parley" }).waitFor();
    });

    it("refuses a message longer than any receiver accepts, keeping the text in the box", async () => {
      await openConversation(alice, "Bob");
      await composer(alice).fill("x".repeat(70_000));
      await alice
        .getByRole("alert")
        .getByText(/Too long to send: 70,000 characters, at most 65,536/)
        .waitFor();
      assert.equal(await alice.getByRole("button", { name: "Send" }).isDisabled(), true);
      await composer(alice).press("Enter");
      assert.equal((await composer(alice).inputValue()).length, 70_000);
      await composer(alice).fill("");
    });

    // After the "reported no failure" check below would be too late for it; before it, the relay's
    // outage must not make the app report anything: the message simply waits.
    it("a message written while the relay is down says Sending…, and goes once the relay is back", {
      timeout: 90_000,
    }, async () => {
      await openConversation(alice, "Bob");
      await openConversation(bob, "Alice");
      await relay.stop();
      const text = "Written while the relay was down";
      await composer(alice).fill(text);
      await composer(alice).press("Enter");
      const mine = log(alice).locator("li.mine", { hasText: text });
      await mine.getByText("Sending…").waitFor();
      assert.equal(await composer(alice).inputValue(), "");
      await alice.getByRole("status").getByText("Offline — retrying").waitFor();
      await alice.screenshot({ path: join(OUTPUT, "web-outbox-sending.png") });
      await relay.start();
      // The app's connection opens again and the outbox sends it: Sent, then Delivered or Read (Bob's receipts).
      await mine.getByText(/^(Sent|Delivered|Read)$/).waitFor({ timeout: 30_000 });
      await log(bob).getByText(text, { exact: true }).waitFor({ timeout: 30_000 });
      await mine.getByText(/^(Delivered|Read)$/).waitFor({ timeout: 30_000 });
      assert.equal(await log(bob).getByText(text, { exact: true }).count(), 1);
      assert.equal(await mine.count(), 1);
      await alice.getByRole("status").getByText("Connected").waitFor();
      await alice.screenshot({ path: join(OUTPUT, "web-outbox-sent.png") });
    });

    it("a new display name, set in Settings, reaches a contact end to end", { timeout: 60_000 }, async () => {
      await alice.getByRole("button", { name: "Settings" }).click();
      const settings = alice.getByRole("dialog", { name: "Settings" });
      await settings.getByLabel("Display name").fill("Alice Liddell");
      await settings.getByRole("button", { name: "Save name" }).click();
      await settings.getByText("Saved. Your contacts and groups are told, end to end.").waitFor();
      await settings.getByRole("button", { name: "Done" }).click();
      await alice.getByTitle("Your display name").getByText("Alice Liddell").waitFor();
      await bob
        .getByRole("navigation", { name: "Conversations" })
        .getByRole("button", { name: /^Alice Liddell/ })
        .waitFor();
    });

    it("raised no Content-Security-Policy violation and no page error", () => {
      assert.deepEqual(cspViolations, []);
      assert.deepEqual(pageErrors, []);
    });

    it("reported no failure to anyone but the one provoked (the read marker)", () => {
      // Every reported failure is also a console warning "parley: <what> failed: …" (useNotice).
      const reported = consoleLines.filter((l) => /parley: [a-z-]+ failed:/.test(l));
      assert.ok(reported.length > 0, "the provoked failure was reported");
      assert.deepEqual(
        reported.filter((l) => !l.includes("parley: mark-read failed:")),
        [],
      );
    });
  });
}
