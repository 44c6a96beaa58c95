/*
 * Sets <html lang> before the first paint, so screen readers and the CJK font fallbacks (styles.css:
 * Simplified and Traditional glyphs differ) are right from the start, not only once the app's
 * module has loaded. The same choice as src/i18n.ts makes — the language chosen in Settings
 * (localStorage "parley.language"), else the first of the browser's languages Parley speaks — and
 * test/units.test.ts checks the two agree. A file of its own, not an inline script: the relay's
 * Content-Security-Policy runs scripts from this origin only. A classic script, not a module: it
 * must run before the parser goes on, which module scripts never do.
 */
(() => {
  const LANGUAGES = ["en", "zh-Hans", "zh-Hant"];

  const match = (tags) => {
    for (const raw of tags) {
      if (LANGUAGES.includes(raw)) return raw;
      const tag = String(raw).replace(/_/g, "-").toLowerCase();
      const [lang, ...rest] = tag.split("-");
      if (lang === "zh") {
        // A script named outright wins over the region; Taiwan, Hong Kong and Macau write Traditional.
        if (rest.includes("hans")) return "zh-Hans";
        if (rest.some((r) => r === "hant" || r === "tw" || r === "hk" || r === "mo")) return "zh-Hant";
        return "zh-Hans";
      }
      const exact = LANGUAGES.find((l) => l.toLowerCase() === tag || l.toLowerCase() === lang);
      if (exact) return exact;
    }
    return "en";
  };

  let chosen = null;
  try {
    chosen = window.localStorage.getItem("parley.language");
  } catch {
    // Storage blocked: the browser's languages decide.
  }
  const nav = window.navigator ?? {};
  document.documentElement.lang = LANGUAGES.includes(chosen)
    ? chosen
    : match(nav.languages ?? (nav.language ? [nav.language] : []));
})();
