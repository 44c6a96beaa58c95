/** A web user (real Chromium) with one CLI contact, connected: the setup of the issue-13 browser tests. */
import { type Browser, chromium, type Page } from "playwright-core";
import { CHROMIUM, CHROMIUM_ARGS, eventually, parleyJson, type RelayProcess } from "./helpers.js";

export interface WebAndCli {
  browser: Browser;
  page: Page;
  /** Console and page errors seen so far. */
  problems: string[];
}

/** Alice in the browser invites `cliHome` ("Bob", on the CLI); returns once both can write. */
export async function webUserWithCliContact(relay: RelayProcess, cliHome: string): Promise<WebAndCli> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  const problems: string[] = [];
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.setDefaultTimeout(30_000);
  page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
  await page.goto(`${relay.url}/`);
  await page.getByLabel("Display name").fill("Alice");
  await page.getByLabel("Passphrase", { exact: true }).fill("alice correct horse battery");
  await page.getByLabel("Confirm passphrase").fill("alice correct horse battery");
  await page.getByRole("button", { name: "Create profile" }).click();
  await page.getByRole("button", { name: "Invite someone" }).click();
  const dialog = page.getByRole("dialog", { name: "Invite someone" });
  const link = await dialog.getByLabel("Invite link").inputValue();
  await dialog.getByRole("button", { name: "Done" }).click();
  await parleyJson(cliHome, "init", "--name", "Bob", "--server", relay.url);
  await parleyJson(cliHome, "accept", link);
  await page.getByRole("navigation", { name: "Conversations" }).getByRole("button", { name: /^Bob/ }).click();
  await page.getByRole("heading", { level: 2, name: "Bob" }).waitFor();
  await eventually(async () => {
    await parleyJson(cliHome, "sync");
    const contacts = await parleyJson<{ canSend: boolean }[]>(cliHome, "contacts");
    return contacts[0]?.canSend ? true : undefined;
  });
  return { browser, page, problems };
}
