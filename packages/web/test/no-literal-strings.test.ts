/**
 * Every word the web app shows comes from the catalogue (@parley/i18n): this walks each component's
 * TSX with the TypeScript compiler and fails on a literal a person would see — JSX text, a
 * user-visible attribute (title, placeholder, aria-label, alt, …) given a string, or a string with
 * letters inside a `{…}` that renders (`{busy ? "Saving…" : "Save"}`). Keys passed to t(), strings
 * compared with ===, class names and handlers are not shown, so they are not flagged.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import ts from "typescript";

// Compiled to packages/web/dist/test/test/; the sources are read as they are.
const SRC = fileURLToPath(new URL("../../../src/", import.meta.url));
/** Attributes whose value a person sees or hears (props of our own components included). */
const VISIBLE = new Set([
  "title",
  "placeholder",
  "aria-label",
  "aria-description",
  "aria-valuetext",
  "aria-roledescription",
  "alt",
  "label",
  "submitLabel",
  "busyLabel",
  "notice",
]);
/** The product's name is the same in every language. */
const ALLOWED = new Set(["Parley"]);
const hasWords = (text: string) => /\p{L}/u.test(text) && !ALLOWED.has(text.trim());

const COMPARISON = new Set([
  ts.SyntaxKind.EqualsEqualsEqualsToken,
  ts.SyntaxKind.ExclamationEqualsEqualsToken,
  ts.SyntaxKind.EqualsEqualsToken,
  ts.SyntaxKind.ExclamationEqualsToken,
]);

interface Finding {
  file: string;
  line: number;
  text: string;
}

/** Parts of an expression that never render: comparisons, handlers, nested JSX (walked on its own). */
const skipped = (node: ts.Node) =>
  (ts.isBinaryExpression(node) && COMPARISON.has(node.operatorToken.kind)) ||
  ts.isArrowFunction(node) ||
  ts.isFunctionExpression(node) ||
  ts.isJsxElement(node) ||
  ts.isJsxSelfClosingElement(node) ||
  ts.isJsxFragment(node);

/** Strings with letters that an expression in `{…}` can render. */
function renderedStrings(expr: ts.Node, report: (node: ts.Node, text: string) => void): void {
  const visit = (node: ts.Node): void => {
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) {
      if (hasWords(node.text)) report(node, node.text);
      return;
    }
    if (ts.isTemplateExpression(node)) {
      const parts = [node.head.text, ...node.templateSpans.map((s) => s.literal.text)].join("");
      if (hasWords(parts)) report(node, node.getText());
      for (const span of node.templateSpans) visit(span.expression);
      return;
    }
    // A call's arguments are not rendered (t("key"), join(", ")), only what it is called on.
    if (ts.isCallExpression(node) || ts.isElementAccessExpression(node)) visit(node.expression);
    else if (ts.isPropertyAssignment(node)) visit(node.initializer);
    else if (!skipped(node)) ts.forEachChild(node, visit);
  };
  visit(expr);
}

export function literalStrings(fileName: string, source: string): Finding[] {
  const sf = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, true, ts.ScriptKind.TSX);
  const found: Finding[] = [];
  const report = (node: ts.Node, text: string) =>
    found.push({
      file: fileName,
      line: sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1,
      text: text.trim(),
    });
  const visit = (node: ts.Node): void => {
    if (ts.isJsxText(node) && hasWords(node.text)) report(node, node.text);
    if (ts.isJsxExpression(node) && node.expression && !ts.isJsxAttribute(node.parent)) {
      renderedStrings(node.expression, report);
    }
    if (ts.isJsxAttribute(node) && VISIBLE.has(node.name.getText(sf))) {
      const value = node.initializer;
      if (value && ts.isStringLiteral(value) && hasWords(value.text)) report(value, value.text);
      if (value && ts.isJsxExpression(value) && value.expression) renderedStrings(value.expression, report);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

function tsxFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tsxFiles(join(dir, e.name)) : e.name.endsWith(".tsx") ? [join(dir, e.name)] : [],
  );
}

describe("no literal user-visible strings in the web app's components", () => {
  it("finds them (the check itself)", () => {
    const sample = `
      export const A = () => (
        <div title="Hello" className="x">
          Hello there
          <input placeholder={busy ? "Saving…" : t("common.save")} aria-label={\`Group \${name}\`} />
          {mode === "delete" ? t("a.b") : "Close"}
          {" · "}{t("x.y", { name: "ok" })}
          <button onClick={() => alert("not shown here")}>{t("common.done")}</button>
          <span className="brand">Parley</span>
        </div>
      );`;
    const texts = literalStrings("sample.tsx", sample).map((f) => f.text);
    const template = "`Group $" + "{name}`";
    assert.deepEqual(texts, ["Hello", "Hello there", "Saving…", template, "Close"]);
  });

  it("none in packages/web/src", () => {
    const files = tsxFiles(SRC);
    assert.ok(files.length >= 15, `expected the components, found ${files.length} files`);
    const found = files.flatMap((f) => literalStrings(f.slice(SRC.length), readFileSync(f, "utf8")));
    assert.deepEqual(
      found.map((f) => `${f.file}:${f.line} ${JSON.stringify(f.text)}`),
      [],
      "put these in packages/i18n/src/locales/*.ts and render them with t()",
    );
  });
});
