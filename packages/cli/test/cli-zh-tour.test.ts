/**
 * The README's tour of the CLI in a Chinese shell (LANG=zh_CN.UTF-8): every human line is Simplified
 * Chinese from the catalogue, names and messages in Chinese go through, `config set language`
 * switches to Traditional for this profile, and `--json` stays the same English-and-codes output
 * whatever the language (scripts must not break when a person's shell speaks Chinese).
 */
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import { createI18n } from "@parley/i18n";
import { runCli } from "@parley/testkit";
import { type RelayProcess, startRelayProcess, tempDir } from "./helpers.js";

const hans = createI18n("zh-Hans").t;
const hant = createI18n("zh-Hant").t;

/** A shell set to Simplified Chinese, whatever the one running the tests is set to. */
const env = { ...process.env, LANG: "zh_CN.UTF-8", LC_ALL: "", LC_MESSAGES: "", LANGUAGE: "" };
const zh = async (home: string, ...args: string[]) => {
  const r = await runCli(home, args, { env });
  assert.equal(r.code, 0, `parley ${args.join(" ")} failed: ${r.stdout} ${r.stderr}`);
  return r.stdout.trim();
};

let relay: RelayProcess;
before(async () => {
  relay = await startRelayProcess(tempDir("relay"));
});
after(async () => {
  await relay?.stop();
});

it("the tour prints Chinese in a zh_CN shell; --json does not change", { timeout: 300_000 }, async () => {
  const ming = tempDir("ming");
  const hong = tempDir("hong");
  assert.equal(
    await zh(ming, "init", "--name", "小明", "--server", relay.url),
    hans("cli.created", { name: "小明", server: relay.url }),
  );
  await zh(hong, "init", "--name", "小红", "--server", relay.url);

  const invite = await zh(ming, "invite");
  const link = invite.split("\n")[0]!;
  assert.equal(invite, hans("cli.invite", { link }));
  assert.equal(await zh(hong, "accept", link), hans("cli.accepted", { name: "小明" }));

  const sent = await zh(hong, "send", "小明", "你好，我是小红");
  assert.match(sent, /\] 我 → 小明: 你好，我是小红（(已送达|已发送|正在发送)）$/);
  const synced = await zh(ming, "sync");
  assert.ok(synced.includes(hans("cli.event.contactAdded", { name: "小红" })), synced);
  assert.match(synced, /\] 小红: 你好，我是小红$/m);
  await zh(ming, "send", "小红", "周六见");
  assert.match(await zh(hong, "sync"), /\] 小明: 周六见$/m);
  const history = await zh(hong, "messages", "小明");
  assert.match(history, /小明: 周六见/);

  const safety = await zh(ming, "safety", "小红");
  assert.ok(safety.startsWith(hans("cli.safety", { name: "小红", digits: "" })), safety);
  assert.equal(
    await zh(ming, "config", "set", "server", relay.url),
    hans("cli.serverNow", { server: relay.url }),
  );

  // An error, from its code, in Chinese on stderr; --json keeps the code and the English words.
  const missing = await runCli(ming, ["send", "老王", "在吗"], { env });
  assert.equal(missing.code, 1);
  assert.equal(
    missing.stderr.trim(),
    hans("cli.error", { text: hans("cli.errors.unknown_contact_or_group", { name: "老王" }) }),
  );
  const json = await runCli(ming, ["--json", "send", "老王", "在吗"], { env });
  assert.deepEqual(JSON.parse(json.stdout), {
    error: 'no contact or group named "老王"',
    code: "unknown_contact",
  });
  const english = { ...env, LANG: "C.UTF-8" };
  for (const args of [
    ["--json", "messages", "小红"],
    ["--json", "config", "get"],
    ["--json", "contacts"],
  ]) {
    const inChinese = await runCli(ming, args, { env });
    assert.equal(inChinese.stdout, (await runCli(ming, args, { env: english })).stdout, args.join(" "));
  }

  // This profile in Traditional Chinese, whatever the shell says; "auto" goes back to the shell's.
  assert.equal(
    await zh(ming, "config", "set", "language", "zh-Hant"),
    hant("cli.languageNow", { language: "zh-Hant" }),
  );
  assert.equal(await zh(ming, "sync"), hant("cli.noNewMessages"));
  const bad = await runCli(ming, ["config", "set", "language", "klingon"], { env });
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /klingon/);
  assert.equal(
    await zh(ming, "config", "set", "language", "auto"),
    hans("cli.languageNowAuto", { language: "zh-Hans" }),
  );
  assert.equal(await zh(ming, "sync"), hans("cli.noNewMessages"));
});

it("posts, read receipts, typing and search speak Chinese too", { timeout: 300_000 }, async () => {
  const hua = tempDir("hua");
  const mei = tempDir("mei");
  await zh(hua, "init", "--name", "阿华", "--server", relay.url);
  await zh(mei, "init", "--name", "阿美", "--server", relay.url);
  await zh(mei, "accept", (await zh(hua, "invite")).split("\n")[0]!);
  await zh(mei, "send", "阿华", "明天下午开会");
  assert.match(await zh(hua, "sync"), /\] 阿美: 明天下午开会$/m);

  assert.equal(await zh(hua, "read", "阿美"), hans("cli.markedReadSent", { count: 1 }));
  assert.equal(await zh(hua, "read", "阿美"), hans("cli.nothingToMarkRead"));
  assert.equal(await zh(hua, "typing", "阿美"), hans("cli.typingSent"));
  assert.equal(
    await zh(hua, "read-receipts", "阿美", "--off"),
    hans("cli.readReceiptsOff", { name: "阿美" }),
  );
  assert.match(await zh(hua, "search", "开会"), /\] 阿美: 明天下午开会$/);
  assert.equal(await zh(hua, "search", "没有这个词"), hans("cli.nothingFound"));

  const posted = await zh(hua, "post", "周末去爬山");
  const id = /^#(\S+) /.exec(posted)?.[1];
  assert.ok(id, posted);
  assert.ok(
    posted.split("\n")[0]!.includes(hans("cli.post.to", { audience: hans("cli.post.allFriends") })),
    posted,
  );
  const synced = await zh(mei, "sync");
  assert.ok(synced.includes(hans("cli.post.posted", { who: "阿华", id })), synced);
  assert.match(await zh(mei, "feed"), /周末去爬山/);
  const unknown = await runCli(mei, ["like", "#zzzzzz"], { env });
  assert.equal(unknown.code, 1);
  assert.ok(unknown.stderr.startsWith(hans("cli.error", { text: "" })), unknown.stderr);
  assert.ok(!/[a-z]{4,} [a-z]{4,}/.test(unknown.stderr.replace(/`[^`]*`/g, "")), unknown.stderr);
});
