/**
 * `parley --help` in the person's language. Every command, option and argument is described in the
 * catalogue (`cli.help`, one key per item: "send" for the command, "send <to>" for an argument,
 * "send --caption" for an option, "parley" for the program itself). The English descriptions in
 * program.ts stay as the developers' reference; test/help.test.ts checks that each matches the
 * English catalogue and that nothing is left without words. Commander's own words (Usage:, Options:,
 * the help option, default values and choices) come from the catalogue too; its error messages for
 * a mistyped command line stay English (commander builds them, with no codes to translate from).
 */
import { LANGUAGES } from "@parley/i18n";
import { type Argument, type Command, Help, type Option } from "commander";
import { tr } from "./i18n.js";

/** The keys the catalogue describes (the same in every language: the catalogue test checks). */
const helpKeys = (): ReadonlySet<string> =>
  new Set(Object.keys(tr("cli.help", { returnObjects: true }) as Record<string, string>));

/** The catalogue's help text for `key` (interpolated), or undefined when it has none. */
function helpText(keys: ReadonlySet<string>, key: string): string | undefined {
  if (!keys.has(key)) return undefined;
  return tr(`cli.help.${key}` as "cli.help.parley", { languages: LANGUAGES.join(", ") });
}

/** The key of a command ("config set"; the program itself: "parley"). */
export function commandKey(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c?.parent; c = c.parent) names.unshift(c.name());
  return names.length ? names.join(" ") : "parley";
}

export const optionKey = (cmd: Command, o: Option): string => `${commandKey(cmd)} ${o.long ?? o.short}`;
export const argumentKey = (cmd: Command, a: Argument): string =>
  `${commandKey(cmd)} ${a.required ? "<" : "["}${a.name()}${a.variadic ? "..." : ""}${a.required ? ">" : "]"}`;

/** Every command of `root`, itself first. */
export function allCommands(root: Command): Command[] {
  return [root, ...root.commands.flatMap(allCommands)];
}

/** Every described item of `root`'s tree: its key, and the English program.ts gives it (if any). */
export function helpItems(root: Command): { key: string; english: string }[] {
  return allCommands(root)
    .flatMap((cmd) => [
      { key: commandKey(cmd), english: cmd.description() },
      ...cmd.options.map((o) => ({ key: optionKey(cmd, o), english: o.description })),
      ...cmd.registeredArguments.map((a) => ({ key: argumentKey(cmd, a), english: a.description })),
    ])
    .filter((item) => item.english !== "");
}

const TITLES = {
  "Usage:": "cli.helpWords.usage",
  "Arguments:": "cli.helpWords.arguments",
  "Options:": "cli.helpWords.options",
  "Global Options:": "cli.helpWords.globalOptions",
  "Commands:": "cli.helpWords.commands",
} as const;

/** "(choices: …, default: …)" in the catalogue's words. */
function extras(description: string, choices: readonly string[] | undefined, shown: unknown): string {
  const parts: string[] = [];
  if (choices) parts.push(tr("cli.helpWords.choices", { choices: choices.join(", ") }));
  if (shown !== undefined) parts.push(tr("cli.helpWords.default", { value: JSON.stringify(shown) }));
  if (!parts.length) return description;
  return tr("cli.helpWords.withExtras", { description, extras: parts.join(tr("cli.helpWords.separator")) });
}

/**
 * Puts the catalogue's words, in the current language, on every command of `root`: the
 * descriptions when help is first shown (most runs never show it, and wording some 150 items costs
 * a few ms of every CLI start), commander's own words at once.
 */
export function localizeHelp(root: Command): void {
  let worded = false;
  const wordAll = () => {
    if (worded) return;
    worded = true;
    const keys = helpKeys();
    const say = (key: string, english: string) => helpText(keys, key) ?? english;
    for (const cmd of allCommands(root)) {
      cmd.description(say(commandKey(cmd), cmd.description()));
      for (const o of cmd.options) o.description = say(optionKey(cmd, o), o.description);
      for (const a of cmd.registeredArguments) a.description = say(argumentKey(cmd, a), a.description);
    }
  };
  const helpOption = tr("cli.helpWords.help");
  const helpCommand = tr("cli.helpWords.helpCommand");
  for (const cmd of allCommands(root)) {
    cmd.helpOption("-h, --help", helpOption);
    if (cmd.commands.length) cmd.helpCommand("help [command]", helpCommand);
    cmd.configureHelp({
      formatHelp: (c: Command, helper: Help) => {
        wordAll();
        return Help.prototype.formatHelp.call(helper, c, helper);
      },
      styleTitle: (title: string) => (title in TITLES ? tr(TITLES[title as keyof typeof TITLES]) : title),
      optionDescription: (o: Option) => {
        // As commander shows them: a default for options that take a value, or a boolean's.
        const shows = o.required || o.optional || (o.isBoolean() && typeof o.defaultValue === "boolean");
        return extras(o.description, o.argChoices, shows ? o.defaultValue : undefined);
      },
      argumentDescription: (a: Argument) => extras(a.description, a.argChoices, a.defaultValue),
    } satisfies Partial<Help>);
  }
}
