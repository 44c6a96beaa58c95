/**
 * `parley --help` speaks the person's language: every command, option and argument has words in the
 * catalogue (cli.help), the English of which is what program.ts says (they cannot drift apart), and
 * a Chinese shell, or a profile set to Chinese, gets Chinese help, commander's own titles included.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { CATALOGUES, createI18n, LANGUAGES } from "@parley/i18n";
import { runCli } from "@parley/testkit";
import { helpItems, localizeHelp } from "../src/help.js";
import { useLanguage } from "../src/i18n.js";
import { program } from "../src/program.js";
import { tempDir } from "./helpers.js";

const hans = createI18n("zh-Hans").t;
const hant = createI18n("zh-Hant").t;
const english = CATALOGUES.en.cli.help as Record<string, string>;
const languages = LANGUAGES.join(", ");
const shell = (LANG: string) => ({ ...process.env, LANG, LC_ALL: "", LC_MESSAGES: "", LANGUAGE: "" });

describe("parley --help", () => {
  it("every command, option and argument has the words program.ts gives it in the English catalogue", () => {
    const items = helpItems(program);
    assert.ok(items.length > 100, `${items.length} items`);
    const wrong = items
      .filter(({ key, english: source }) => english[key]?.replace("{{languages}}", languages) !== source)
      .map(({ key }) => key);
    assert.deepEqual(wrong, [], "missing from cli.help, or different from program.ts");
    const keys = new Set(items.map((i) => i.key));
    assert.deepEqual(
      Object.keys(english).filter((k) => !keys.has(k)),
      [],
      "cli.help has words for nothing",
    );
  });

  it("a Chinese shell gets Chinese help; --json and an English shell English", async () => {
    const home = tempDir("help");
    const zh = await runCli(home, ["--help"], { env: shell("zh_CN.UTF-8") });
    assert.equal(zh.code, 0, zh.stderr);
    assert.ok(zh.stdout.startsWith(`${hans("cli.helpWords.usage")} parley`), zh.stdout);
    assert.ok(zh.stdout.includes(hans("cli.help.send")), zh.stdout);
    assert.ok(zh.stdout.includes(hans("cli.helpWords.help")), zh.stdout);
    const tw = await runCli(home, ["send-file", "--help"], { env: shell("zh_TW.UTF-8") });
    assert.ok(tw.stdout.includes(hant("cli.help.send-file --keep-metadata")), tw.stdout);
    assert.ok(tw.stdout.includes(hant("cli.helpWords.arguments")), tw.stdout);
    const en = await runCli(home, ["--json", "send", "--help"], { env: shell("zh_CN.UTF-8") });
    assert.ok(en.stdout.startsWith("Usage: parley send"), en.stdout);
    const c = await runCli(home, ["send", "--help"], { env: shell("C.UTF-8") });
    assert.ok(c.stdout.includes(english.send!), c.stdout);
  });

  it("a mistyped command line is told in the person's language, with commander's exit status", async () => {
    const home = tempDir("usage");
    const unknown = await runCli(home, ["frobnicate"], { env: shell("zh_CN.UTF-8") });
    assert.equal(unknown.code, 1);
    assert.ok(
      unknown.stderr.startsWith(hans("cli.usage.unknownCommand", { name: "frobnicate" })),
      unknown.stderr,
    );
    const missing = await runCli(home, ["send"], { env: shell("zh_TW.UTF-8") });
    assert.equal(missing.code, 1);
    assert.ok(missing.stderr.startsWith(hant("cli.usage.missingArgument", { name: "to" })), missing.stderr);
    const option = await runCli(home, ["init", "--bogus"], { env: shell("zh_CN.UTF-8") });
    assert.ok(option.stderr.startsWith(hans("cli.usage.unknownOption", { flag: "--bogus" })), option.stderr);
    const extra = await runCli(home, ["send", "a", "b", "c"], { env: shell("zh_CN.UTF-8") });
    assert.ok(
      extra.stderr.startsWith(hans("cli.usage.excessArguments", { command: "send", count: 2, got: 3 })),
      extra.stderr,
    );
    // English is commander's own, its suggestions included.
    const en = await runCli(home, ["sendd"], { env: shell("C.UTF-8") });
    assert.equal(en.code, 1);
    assert.match(en.stderr, /^error: unknown command 'sendd'\n\(Did you mean send\?\)/);
  });

  it("a profile set to Traditional Chinese gets Traditional help in any shell", async () => {
    const home = tempDir("help-hant");
    writeFileSync(join(home, "language"), "zh-Hant\n");
    const r = await runCli(home, ["group", "--help"], { env: shell("en_US.UTF-8") });
    assert.ok(r.stdout.includes(hant("cli.help.group")), r.stdout);
    assert.ok(r.stdout.includes(hant("cli.helpWords.commands")), r.stdout);
  });

  it("defaults and choices are worded by the catalogue too", () => {
    useLanguage("zh-Hans");
    try {
      localizeHelp(program);
      const set = program.commands
        .find((c) => c.name() === "config")!
        .commands.find((c) => c.name() === "set")!;
      assert.match(set.helpInformation(), /要更改的设置（可选值：name, server, language）/);
    } finally {
      useLanguage("en");
      localizeHelp(program);
    }
  });
});
