/**
 * Every catalogue has every key English has (and no other), each with the same interpolation
 * variables and the same markup tags: a translation that drops `{{name}}` or a `<b>` would show
 * the wrong person or lose a warning's emphasis, silently. Plural keys may differ only in `count`
 * (English "Add to group" for one, "Add 3 people" for more).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  CATALOGUES,
  createI18n,
  LANGUAGES,
  languageFromEnv,
  listFormat,
  matchLanguage,
} from "../src/index.js";

type Tree = { readonly [key: string]: string | Tree };

function flatten(tree: Tree, prefix = ""): Map<string, string> {
  const out = new Map<string, string>();
  for (const [key, value] of Object.entries(tree)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (typeof value === "string") out.set(path, value);
    else for (const [k, v] of flatten(value, path)) out.set(k, v);
  }
  return out;
}

const variables = (text: string) =>
  [...text.matchAll(/\{\{\s*([\w.]+)\s*\}\}/g)].map((m) => m[1]!).filter((v, i, all) => all.indexOf(v) === i);
/** Markup for react-i18next's Trans: `<b>…</b>` pairs (a lone `<name>` is a placeholder in a CLI hint). */
const tags = (text: string) => [...text.matchAll(/<(\w+)>.*?<\/\1>/gs)].map((m) => m[1]!).sort();
const isPlural = (key: string) => /_(zero|one|two|few|many|other)$/.test(key);

const english = flatten(CATALOGUES.en);

describe("catalogues", () => {
  it("the check finds a missing variable", () => {
    assert.deepEqual(variables("{{who}} added {{names}} and {{who}}"), ["who", "names"]);
    assert.deepEqual(tags("<b>{{name}}</b> changed <wipe>x</wipe>, see <contact>"), ["b", "wipe"]);
  });

  for (const language of LANGUAGES) {
    it(`${language}: the same keys as English`, () => {
      const keys = flatten(CATALOGUES[language]);
      const missing = [...english.keys()].filter((k) => !keys.has(k));
      const extra = [...keys.keys()].filter((k) => !english.has(k));
      assert.deepEqual({ missing, extra }, { missing: [], extra: [] });
    });

    it(`${language}: the same variables and tags as English, no empty text`, () => {
      const keys = flatten(CATALOGUES[language]);
      const wrong: string[] = [];
      for (const [key, en] of english) {
        const text = keys.get(key) ?? "";
        const drop = (vs: string[]) => (isPlural(key) ? vs.filter((v) => v !== "count") : vs).sort();
        if (JSON.stringify(drop(variables(text))) !== JSON.stringify(drop(variables(en))))
          wrong.push(`${key}: variables ${variables(text)} vs English ${variables(en)}`);
        if (JSON.stringify(tags(text)) !== JSON.stringify(tags(en))) wrong.push(`${key}: tags differ`);
        if (en !== "" && text.trim() === "") wrong.push(`${key}: empty`);
      }
      assert.deepEqual(wrong, []);
    });
  }

  it("plurals follow Intl.PluralRules: English has one and other, Chinese one form", () => {
    const en = createI18n("en");
    assert.equal(en.t("sidebar.unread", { count: 1 }), "1 unread message");
    assert.equal(en.t("sidebar.unread", { count: 2 }), "2 unread messages");
    const zh = createI18n("zh-Hans");
    assert.equal(zh.t("sidebar.unread", { count: 1 }), "1 条未读消息");
    assert.equal(createI18n("zh-Hant").t("chat.members", { count: 3 }), "3 位成員");
  });

  it("lists are joined as each language joins them", () => {
    assert.equal(listFormat("en", ["Bob", "Carol", "Dana"]), "Bob, Carol, and Dana");
    assert.equal(listFormat("zh-Hans", ["Bob", "Carol", "Dana"]), "Bob、Carol和Dana");
  });
});

describe("choosing the language", () => {
  it("from a browser's languages", () => {
    assert.equal(matchLanguage(["zh-CN", "en"]), "zh-Hans");
    assert.equal(matchLanguage(["zh-TW"]), "zh-Hant");
    assert.equal(matchLanguage(["zh-HK"]), "zh-Hant");
    assert.equal(matchLanguage(["zh-Hant-HK"]), "zh-Hant");
    assert.equal(matchLanguage(["zh-Hans-HK"]), "zh-Hans");
    assert.equal(matchLanguage(["zh"]), "zh-Hans");
    assert.equal(matchLanguage(["fr-FR", "zh-TW"]), "zh-Hant");
    assert.equal(matchLanguage(["en-GB"]), "en");
    assert.equal(matchLanguage(["de"]), "en");
    assert.equal(matchLanguage([]), "en");
  });

  it("from a shell: LC_ALL, then LC_MESSAGES, then LANG", () => {
    assert.equal(languageFromEnv({ LANG: "zh_CN.UTF-8" }), "zh-Hans");
    assert.equal(languageFromEnv({ LANG: "zh_TW.UTF-8" }), "zh-Hant");
    assert.equal(languageFromEnv({ LANG: "zh_CN.UTF-8", LC_ALL: "en_US.UTF-8" }), "en");
    assert.equal(languageFromEnv({ LANG: "en_US.UTF-8", LC_MESSAGES: "zh_HK.UTF-8" }), "zh-Hant");
    assert.equal(languageFromEnv({ LANG: "C.UTF-8" }), "en");
    assert.equal(languageFromEnv({ LANGUAGE: "zh_TW:en", LANG: "en_US.UTF-8" }), "zh-Hant");
    assert.equal(languageFromEnv({}), "en");
  });
});
