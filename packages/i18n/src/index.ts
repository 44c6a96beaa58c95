/**
 * Parley's languages: the catalogues (one file per language in locales/), how a language is chosen
 * from what a browser or a shell says, and an i18next instance to translate with. Shared by the web
 * app and the CLI, so both say the same thing in the same words.
 *
 * Adding a language: copy locales/en.ts to locales/<tag>.ts, translate it (the compiler then insists
 * on every key), and add it to CATALOGUES below.
 */
import i18next, { type i18n as I18n } from "i18next";
import { type Catalogue, en } from "./locales/en.js";
import { zhHans } from "./locales/zh-Hans.js";
import { zhHant } from "./locales/zh-Hant.js";

export type { Catalogue } from "./locales/en.js";

export const CATALOGUES = { en, "zh-Hans": zhHans, "zh-Hant": zhHant } satisfies Record<string, Catalogue>;

export type Language = keyof typeof CATALOGUES;
export const LANGUAGES = Object.keys(CATALOGUES) as Language[];
export const DEFAULT_LANGUAGE: Language = "en";

export const isLanguage = (s: unknown): s is Language => typeof s === "string" && s in CATALOGUES;

/**
 * The language Parley speaks for a list of BCP 47 tags in order of preference (navigator.languages,
 * or one tag from the environment): the first we have. Chinese without a script goes by region —
 * Taiwan, Hong Kong and Macau write Traditional, everywhere else Simplified.
 */
export function matchLanguage(tags: readonly string[]): Language {
  for (const raw of tags) {
    const tag = raw.replace(/_/g, "-").toLowerCase();
    if (isLanguage(raw)) return raw;
    const [lang, ...rest] = tag.split("-");
    if (lang === "zh") {
      // A script named outright wins over the region (zh-Hans-HK is Simplified).
      if (rest.includes("hans")) return "zh-Hans";
      if (rest.includes("hant") || rest.some((r) => r === "tw" || r === "hk" || r === "mo")) return "zh-Hant";
      return "zh-Hans";
    }
    const exact = LANGUAGES.find((l) => l.toLowerCase() === tag || l.toLowerCase() === lang);
    if (exact) return exact;
  }
  return DEFAULT_LANGUAGE;
}

/**
 * The language of a shell, as POSIX orders it: LC_ALL, then LC_MESSAGES, then LANG
 * ("zh_CN.UTF-8" → zh-Hans; "C" or "POSIX" → English). LANGUAGE (GNU's list) first when set.
 */
export function languageFromEnv(env: Record<string, string | undefined>): Language {
  const posix = [env.LC_ALL, env.LC_MESSAGES, env.LANG].find((v) => v !== undefined && v !== "");
  const tags = (env.LANGUAGE ? env.LANGUAGE.split(":") : []).concat(posix ? [posix] : []);
  return matchLanguage(
    tags.map((t) => t.split(/[.@]/)[0] ?? "").filter((t) => t !== "" && t !== "C" && t !== "POSIX"),
  );
}

/**
 * A translator for `language`, ready at once (the catalogues are in memory). Values are not
 * HTML-escaped: React escapes what it renders, and the CLI passes everything through its terminal
 * filter.
 */
export function createI18n(language: Language): I18n {
  const instance = i18next.createInstance();
  void instance.init({
    lng: language,
    fallbackLng: DEFAULT_LANGUAGE,
    supportedLngs: LANGUAGES,
    resources: Object.fromEntries(LANGUAGES.map((l) => [l, { translation: CATALOGUES[l] }])),
    initAsync: false,
    interpolation: { escapeValue: false },
    returnNull: false,
    // Keys hold dots only as separators; sentences contain ":" freely.
    nsSeparator: false,
  });
  return instance;
}

/** "Bob, Carol and Dana" / "Bob、Carol和Dana", as `language` lists things. */
export function listFormat(language: Language, items: readonly string[]): string {
  return new Intl.ListFormat(language, { style: "long", type: "conjunction" }).format(items);
}

// Keys and their interpolation variables are checked by the compiler wherever `t` is called.
declare module "i18next" {
  interface CustomTypeOptions {
    defaultNS: "translation";
    resources: { translation: typeof en };
    nsSeparator: false;
    returnNull: false;
  }
}
