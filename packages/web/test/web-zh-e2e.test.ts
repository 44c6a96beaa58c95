/**
 * The web app in Chinese, end to end in real Chromium: a browser set to zh-CN gets Simplified
 * Chinese and one set to zh-TW Traditional, from their first screen; Chinese names, group names and
 * messages go through; an input method's Enter (choosing a candidate) never sends; the Feed carries a
 * post, a like and a comment from one to the other; Settings switches the language and `<html lang>`
 * follows. Every role name below comes from the catalogues, so the test fails if a screen falls back
 * to English. Screenshots of each screen go to test-output/zh-*.png
 * (look at them: a missing CJK font shows as boxes).
 */
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, afterEach, before, describe, it } from "node:test";
import { createI18n } from "@parley/i18n";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import {
  browserSuiteUnavailable,
  CHROMIUM,
  CHROMIUM_ARGS,
  OUTPUT,
  type RelayProcess,
  startRelay,
} from "./helpers.js";

const hans = createI18n("zh-Hans").t;
const hant = createI18n("zh-Hant").t;
const en = createI18n("en").t;
type T = typeof hans;

const unavailable = browserSuiteUnavailable();

if (unavailable && process.env.CI === "true") {
  it("browser suite prerequisites are installed", () => {
    assert.fail(`CI=true but the browser suite cannot run: ${unavailable}`);
  });
} else {
  describe("web app in Chinese, in Chromium", {
    skip: unavailable ? `skipped: ${unavailable}` : false,
  }, () => {
    let relay: RelayProcess;
    let browser: Browser;
    const contexts: BrowserContext[] = [];
    const problems: string[] = [];
    let xiaoming: Page; // zh-CN
    let xiaohong: Page; // zh-TW

    async function newPage(locale: string, url?: string): Promise<Page> {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale });
      contexts.push(context);
      const page = await context.newPage();
      page.setDefaultTimeout(20_000);
      page.on("pageerror", (e) => problems.push(`${locale} pageerror: ${e.message}`));
      page.on("console", (m) => {
        if (m.type() === "error") problems.push(`${locale} console.error: ${m.text()}`);
      });
      await page.goto(url ?? `${relay.url}/`);
      return page;
    }

    const shot = async (page: Page, name: string) => {
      mkdirSync(OUTPUT, { recursive: true });
      await page.screenshot({ path: join(OUTPUT, `zh-${name}.png`) });
    };

    async function onboard(page: Page, t: T, name: string, passphrase: string, picture?: string) {
      await page.getByLabel(t("common.displayName")).fill(name);
      await page.getByLabel(t("common.passphrase"), { exact: true }).fill(passphrase);
      await page.getByLabel(t("onboarding.confirm")).fill(passphrase);
      if (picture) await shot(page, picture);
      await page.getByRole("button", { name: t("onboarding.create") }).click();
      await page.getByRole("button", { name: t("sidebar.invite") }).waitFor();
    }

    const log = (page: Page, t: T) => page.getByRole("log", { name: t("chat.messages") });
    const composer = (page: Page, t: T) => page.getByRole("textbox", { name: t("chat.message") });

    before(async () => {
      relay = await startRelay();
      browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    });

    afterEach((context) => {
      if ((context as { passed?: boolean }).passed === false && problems.length)
        console.log(`--- the pages said:\n${problems.join("\n")}`);
    });

    after(async () => {
      for (const c of contexts) await c.close().catch(() => {});
      await browser?.close().catch(() => {});
      await relay?.stop();
    });

    it("a zh-CN browser gets Simplified Chinese, a zh-TW one Traditional, from the first screen", {
      timeout: 120_000,
    }, async () => {
      xiaoming = await newPage("zh-CN");
      await xiaoming.getByRole("heading", { name: hans("onboarding.welcome") }).waitFor();
      assert.equal(await xiaoming.evaluate(() => document.documentElement.lang), "zh-Hans");
      await onboard(xiaoming, hans, "小明", "小明的密码 很长 很安全", "onboarding-hans");

      await xiaoming.getByRole("button", { name: hans("sidebar.invite") }).click();
      const inviteDialog = xiaoming.getByRole("dialog", { name: hans("invite.title") });
      const link = await inviteDialog.getByLabel(hans("common.inviteLink")).inputValue();
      await shot(xiaoming, "invite-hans");
      await inviteDialog.getByRole("button", { name: hans("common.done") }).click();

      xiaohong = await newPage("zh-TW", link);
      await xiaohong.getByText(hant("onboarding.hasInvite")).waitFor();
      assert.equal(await xiaohong.evaluate(() => document.documentElement.lang), "zh-Hant");
      await onboard(xiaohong, hant, "小紅", "小紅的密碼 也很長 很安全");
      const accept = xiaohong.getByRole("dialog", { name: hant("accept.title") });
      await shot(xiaohong, "accept-hant");
      await accept.getByRole("button", { name: hant("accept.accept") }).click();
      await xiaohong.getByRole("heading", { level: 2, name: "小明" }).waitFor();

      await xiaoming
        .getByRole("navigation", { name: hans("sidebar.conversations") })
        .getByRole("button", { name: /^小紅/ })
        .click();
      await xiaoming.getByRole("heading", { level: 2, name: "小紅" }).waitFor();
      await composer(xiaoming, hans).fill("你好！周末一起吃饭吗？");
      await composer(xiaoming, hans).press("Enter");
      await log(xiaohong, hant).getByText("你好！周末一起吃饭吗？").waitFor();
      await composer(xiaohong, hant).fill("好啊，週六中午見。");
      await composer(xiaohong, hant).press("Enter");
      await log(xiaoming, hans).getByText("好啊，週六中午見。").waitFor();
      // Delivered, or Read: 小紅 has the chat open, and read receipts are on in chats by default.
      await log(xiaoming, hans)
        .locator("li.mine")
        .getByText(new RegExp(`^(${hans("message.delivered")}|${hans("message.read")})$`))
        .first()
        .waitFor();
      await shot(xiaoming, "chat-hans");
      await shot(xiaohong, "chat-hant");
    });

    it("<html lang> is right before the app has loaded (public/lang.js): the browser's, or the one chosen", async () => {
      const langWithoutApp = async (locale: string, chosen?: string) => {
        const context = await browser.newContext({ locale });
        contexts.push(context);
        if (chosen) await context.addInitScript((l) => localStorage.setItem("parley.language", l), chosen);
        const page = await context.newPage();
        // The app's modules never load: whatever sets lang here runs before them.
        await page.route(/\/assets\/.*\.js$/, (route) => route.abort());
        await page.goto(`${relay.url}/`);
        const lang = await page.evaluate(() => document.documentElement.lang);
        await context.close();
        return lang;
      };
      assert.equal(await langWithoutApp("zh-TW"), "zh-Hant");
      assert.equal(await langWithoutApp("zh-CN"), "zh-Hans");
      assert.equal(await langWithoutApp("en-US"), "en");
      assert.equal(await langWithoutApp("zh-CN", "zh-Hant"), "zh-Hant");
    });

    it("the message limit counts characters a person sees: 65 536 emoji fit, one more does not", {
      timeout: 60_000,
    }, async () => {
      const box = composer(xiaoming, hans);
      const send = xiaoming.getByRole("button", { name: hans("chat.send"), exact: true });
      const limit = xiaoming.locator(".composer-limit");
      // 👍🏽 is four UTF-16 code units: counted in code units, 16 384 of them would already be too many.
      await box.fill("👍🏽".repeat(65_536));
      assert.equal(await limit.count(), 0);
      assert.equal(await send.isEnabled(), true);
      await box.fill("👍🏽".repeat(65_537));
      await limit.getByText(hans("chat.tooLong", { length: "65,537", max: "65,536" })).waitFor();
      assert.equal(await send.isDisabled(), true);
      await box.fill("");
    });

    it("Enter while an input method is composing never sends; after the composition it does", {
      timeout: 30_000,
    }, async () => {
      const box = composer(xiaoming, hans);
      await box.fill("");
      await box.focus();
      const sentBefore = await log(xiaoming, hans).locator("li.message").count();
      const cdp = await xiaoming.context().newCDPSession(xiaoming);
      // Pinyin "nihao" being composed, its candidates open: Enter picks a candidate, it must not send.
      await cdp.send("Input.imeSetComposition", { text: "nihao", selectionStart: 5, selectionEnd: 5 });
      await xiaoming.evaluate(() => {
        const seen: boolean[] = [];
        (window as unknown as { enterComposing: boolean[] }).enterComposing = seen;
        const note = (e: KeyboardEvent) => e.key === "Enter" && seen.push(e.isComposing);
        document.addEventListener("keydown", note, { capture: true });
      });
      await xiaoming.keyboard.press("Enter");
      const seen = await xiaoming.evaluate(
        () => (window as unknown as { enterComposing: boolean[] }).enterComposing,
      );
      assert.deepEqual(seen, [true], "Chromium reports the Enter as part of the composition");
      await cdp.send("Input.insertText", { text: "你好" }); // the candidate chosen: composition ends
      await new Promise((r) => setTimeout(r, 300));
      // (A real input method swallows that Enter; the synthetic one leaves a line break, trimmed on send.)
      assert.equal((await box.inputValue()).trim(), "你好", "nothing was sent, the text is still in the box");
      assert.equal(await log(xiaoming, hans).locator("li.message").count(), sentBefore, "nothing was sent");
      await box.press("Enter");
      await log(xiaoming, hans).getByText("你好", { exact: true }).waitFor();
      assert.equal(await box.inputValue(), "");
      await cdp.detach();
    });

    it("safety numbers, groups with Chinese names and their system lines", { timeout: 90_000 }, async () => {
      await xiaoming.getByRole("button", { name: hans("common.safetyNumber") }).click();
      const safety = xiaoming.getByRole("dialog", { name: hans("safety.title", { name: "小紅" }) });
      await safety.getByText(hans("safety.explain", { name: "小紅" })).waitFor();
      await shot(xiaoming, "safety-hans");
      await safety
        .getByRole("button", { name: hans("common.close") })
        .last()
        .click();

      await xiaoming.getByRole("button", { name: hans("sidebar.newGroup") }).click();
      const create = xiaoming.getByRole("dialog", { name: hans("newGroup.title") });
      await create.getByLabel(hans("common.groupName")).fill("周末聚会");
      await create.getByRole("button", { name: hans("newGroup.create") }).click();
      await xiaoming.getByRole("heading", { level: 2, name: "周末聚会" }).waitFor();
      await log(xiaoming, hans).getByText(hans("lines.created")).waitFor();
      await log(xiaoming, hans)
        .getByRole("button", { name: hans("chat.addPeople") })
        .click();
      const add = xiaoming.getByRole("dialog", { name: hans("group.titleAdd") });
      await add.getByRole("checkbox", { name: "小紅" }).check();
      await add.getByRole("button", { name: hans("group.addN", { count: 1 }) }).click();
      const info = xiaoming.getByRole("dialog", { name: hans("group.titleInfo") });
      await info.getByText(hans("group.done", { what: hans("lines.youAdded", { names: "小紅" }) })).waitFor();
      await shot(xiaoming, "group-info-hans");
      await info.getByRole("button", { name: hans("common.done") }).click();
      await log(xiaoming, hans)
        .getByText(hans("lines.youAdded", { names: "小紅" }))
        .waitFor();
      await xiaoming.getByText(hans("chat.members", { count: 2 })).waitFor();

      await xiaohong
        .getByRole("navigation", { name: hant("sidebar.conversations") })
        .getByRole("button", { name: /^周末聚会/ })
        .click();
      await log(xiaohong, hant)
        .getByText(hant("lines.addedYou", { who: "小明" }))
        .waitFor();
      await composer(xiaohong, hant).fill("我來了 🎉");
      await composer(xiaohong, hant).press("Enter");
      await log(xiaoming, hans).getByText("我來了 🎉").waitFor();
      await shot(xiaoming, "group-chat-hans");
      await shot(xiaohong, "group-chat-hant");
      await xiaoming.setViewportSize({ width: 360, height: 740 });
      await shot(xiaoming, "group-chat-hans-mobile");
      await xiaoming.setViewportSize({ width: 1280, height: 800 });
    });

    it("the Feed: a post in Simplified reaches a Traditional reader, who likes it and comments", {
      timeout: 90_000,
    }, async () => {
      const views = (page: Page, t: T) =>
        page.getByRole("navigation", { name: t("views.label") }).getByRole("button", {
          name: new RegExp(`^${t("views.feed")}`),
        });
      await views(xiaoming, hans).click();
      await xiaoming.getByRole("heading", { level: 2, name: hans("feed.title") }).waitFor();
      await xiaoming.getByText(hans("feed.empty")).waitFor();
      const composerForm = xiaoming.getByRole("form", { name: hans("feed.newPost") });
      await composerForm.getByLabel(hans("feed.placeholder")).fill("周末去爬山，有人一起吗？");
      await composerForm.getByRole("button", { name: hans("feed.post"), exact: true }).click();
      const mine = xiaoming.getByRole("article", { name: hans("feed.postBy", { name: hans("common.you") }) });
      await mine.getByText("周末去爬山，有人一起吗？").waitFor({ timeout: 60_000 });

      await views(xiaohong, hant).click();
      const theirs = xiaohong.getByRole("article", { name: hant("feed.postBy", { name: "小明" }) });
      await theirs.getByText("周末去爬山，有人一起吗？").waitFor({ timeout: 60_000 });
      await theirs.getByRole("button", { name: hant("feed.like") }).click();
      await theirs.getByRole("button", { name: hant("feed.liked") }).waitFor();
      await theirs.getByLabel(hant("feed.commentOn", { name: "小明" })).fill("算我一個！");
      await theirs.getByRole("button", { name: hant("feed.send") }).click();
      await theirs
        .getByRole("list", { name: hant("feed.comments") })
        .getByText("算我一個！")
        .waitFor();
      await shot(xiaohong, "feed-hant");

      await mine
        .getByRole("list", { name: hans("feed.comments") })
        .getByText("算我一個！")
        .waitFor({ timeout: 60_000 });
      await mine.getByText("小紅", { exact: true }).first().waitFor();
      await shot(xiaoming, "feed-hans");
      await xiaoming
        .getByRole("navigation", { name: hans("views.label") })
        .getByRole("button", { name: hans("views.chats") })
        .click();
    });

    it("Settings switches the language, <html lang> follows, and the choice outlives a reload", async () => {
      await xiaoming.getByRole("button", { name: hans("topbar.settings") }).click();
      const settings = xiaoming.getByRole("dialog", { name: hans("settings.title") });
      await shot(xiaoming, "settings-hans");
      await settings.getByLabel(hans("settings.language")).selectOption("zh-Hant");
      await xiaoming.getByRole("dialog", { name: hant("settings.title") }).waitFor();
      assert.equal(await xiaoming.evaluate(() => document.documentElement.lang), "zh-Hant");
      await shot(xiaoming, "settings-hant");
      await xiaoming.getByRole("dialog").getByLabel(hant("settings.language")).selectOption("en");
      const english = xiaoming.getByRole("dialog", { name: en("settings.title") });
      await english.getByRole("button", { name: en("common.done") }).click();
      assert.equal(await xiaoming.evaluate(() => document.documentElement.lang), "en");
      await xiaoming.getByRole("button", { name: en("topbar.lock") }).waitFor();
      // The group's lines were kept as events, not as Chinese sentences: they read in English now.
      await xiaoming
        .getByRole("navigation", { name: en("sidebar.conversations") })
        .getByRole("button", { name: /^周末聚会/ })
        .click();
      await log(xiaoming, en).getByText(en("lines.created")).waitFor();
      await log(xiaoming, en)
        .getByText(en("lines.youAdded", { names: "小紅" }))
        .waitFor();
      // The list's previews are worded again too (no "你: …" left from the Chinese list).
      await xiaoming
        .getByRole("navigation", { name: en("sidebar.conversations") })
        .getByText(en("sidebar.youPrefix", { text: "你好" }))
        .waitFor();
      await shot(xiaoming, "group-chat-en-after-switch");

      // Back to Simplified; a reload (the Unlock screen) keeps it, although the browser says zh-CN anyway.
      await xiaoming.getByRole("button", { name: en("topbar.settings") }).click();
      await xiaoming.getByRole("dialog").getByLabel(en("settings.language")).selectOption("zh-Hant");
      await xiaoming.reload();
      await xiaoming.getByRole("heading", { name: hant("unlock.title") }).waitFor();
      await xiaoming.getByLabel(hant("common.passphrase")).fill("不对的密码");
      await xiaoming.getByRole("button", { name: hant("unlock.unlock") }).click();
      await xiaoming.getByRole("alert").getByText(hant("unlock.wrong")).waitFor();
      await shot(xiaoming, "unlock-hant");
      assert.deepEqual(problems, []);
    });
  });
}
