/**
 * A message the engine refused is reported in the person's language: the engine's reason (English
 * technical detail, with no code to translate from) is shown inside a sentence of that language.
 */
import assert from "node:assert/strict";
import { it } from "node:test";
import { useLanguage } from "../src/i18n.js";
import { rejectionText } from "../src/words.js";

const refused = { reason: "mls", detail: "commit rejected: only admins may add members" } as const;

it("words an engine's refusal in the person's language, its detail kept", () => {
  useLanguage("zh-Hans");
  assert.equal(
    rejectionText(refused),
    "无法验证（技术细节，英文：commit rejected: only admins may add members）",
  );
  useLanguage("zh-Hant");
  assert.match(
    rejectionText({ reason: "malformed", detail: "a post id is base64url" }),
    /^無法驗證（.*a post id is base64url）$/,
  );
  useLanguage("en");
  assert.equal(rejectionText(refused), refused.detail, "English shows the detail as it is");
});
