/**
 * `parley search`: full-text search of this device's own history. The words never leave the
 * machine: they are matched against the profile database's FTS5 index (client/search.ts).
 */
import { type ParleyClient, SEARCH_LIMIT } from "@parley/core";
import type { Command } from "commander";
import { tr } from "./i18n.js";
import { formatMessage, type Output, print } from "./output.js";
import { messageJson } from "./words.js";

type Run = (
  action: (
    ctx: { client: ParleyClient; out: Output; opts: Record<string, unknown> },
    ...positional: string[]
  ) => Promise<void>,
) => (...args: unknown[]) => Promise<void>;
type Read = (value: string | undefined, what: string) => Promise<string>;

export function addSearchCommand(program: Command, run: Run, argumentOrStdin: Read): void {
  program
    .command("search")
    .description("find messages in your history on this device (the search never leaves it)")
    .argument(
      "[text]",
      "what to look for (any part of a word; case does not matter); omitted or '-': read from standard input",
    )
    .option("--in <target>", "only this chat or group (a name or an id)")
    .option("--limit <n>", "at most this many, newest first", String(SEARCH_LIMIT))
    .action(
      run(async ({ client, out, opts }, text) => {
        const query = await argumentOrStdin(text, tr("cli.theQuery"));
        const limit = Number.parseInt(String(opts.limit), 10) || SEARCH_LIMIT;
        const found = await client.search(query, {
          limit,
          ...(typeof opts.in === "string" ? { in: opts.in } : {}),
        });
        print(
          out,
          found.length ? found.map(formatMessage).join("\n") : tr("cli.nothingFound"),
          found.map(messageJson),
        );
      }),
    );
}
