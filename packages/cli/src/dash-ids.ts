/**
 * Ids on the command line that start with "-". Every id Parley shows (a conversation, a group, a
 * contact, a message, a file, a post) is base64url, so one in 64 starts with "-", and commander
 * would read `parley group members -8msWD2kQ…` as an unknown option. Before commander parses, an
 * argument that names something (REFERENCE_ARGUMENTS) and starts with "-" is given a "#" in front,
 * which every lookup accepts as "this is an id" (core/src/client/lookup.ts `markedId`, findMessage,
 * the file and post commands) and the message lists show.
 *
 * Which argument a word is comes from commander's own tree of commands, arguments and options, so
 * a new command is covered by naming its argument after what it holds. Free text (`send Bob -hi`,
 * a post, a caption) is never touched: "-" there is the author's, and a text argument that starts
 * with "-" still needs `--` in front of it, as commander documents.
 */
import type { Command } from "commander";

/** Argument names (as in `.argument("<group>")`) whose value is a name or an id. */
const REFERENCE_ARGUMENTS: ReadonlySet<string> = new Set([
  "conversation",
  "to",
  "target",
  "contact",
  "contacts",
  "group",
  "message-id",
  "file-id",
  "post-id",
]);

const DASH_ID = /^-[A-Za-z0-9_-]+$/;

/** argv (node, script, words…) with the ids that start with "-" in reference arguments marked "#-…". */
export function protectDashIds(argv: readonly string[], program: Command): string[] {
  const out = [...argv];
  let command = program;
  let positional = 0;
  for (let i = 2; i < out.length; i++) {
    const word = out[i]!;
    if (word === "--") break;
    const option = optionOf(command, word);
    if (option) {
      // `--home DIR`: the value is the option's, whatever it looks like (commander takes it so).
      if (option === "with-value") i++;
      continue;
    }
    if (positional === 0) {
      const sub = command.commands.find((c) => c.name() === word || c.aliases().includes(word));
      if (sub) {
        command = sub;
        continue;
      }
    }
    const args = command.registeredArguments;
    const argument = args[Math.min(positional, args.length - 1)];
    positional++;
    if (!argument || (positional > args.length && !argument.variadic)) continue;
    if (REFERENCE_ARGUMENTS.has(argument.name()) && DASH_ID.test(word)) out[i] = `#${word}`;
  }
  return out;
}

/**
 * Whether `word` is an option of this command or of one above it (`--json` is the program's), and
 * whether the next word is its value; undefined when it is no option.
 */
function optionOf(command: Command, word: string): "flag" | "with-value" | undefined {
  if (!word.startsWith("-") || word === "-") return undefined;
  if (word === "-h" || word === "--help") return "flag";
  const [flag, inline] = word.split("=", 2);
  for (let c: Command | null = command; c; c = c.parent) {
    const found = c.options.find((o) => o.long === flag || o.short === flag);
    if (found) return found.required && inline === undefined ? "with-value" : "flag";
  }
  return undefined;
}
