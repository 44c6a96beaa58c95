/**
 * `parley reply`, `react`, `edit`, `delete-message`: what one does to messages already sent
 * (docs/03-content.md: `text` with `quote`, `reaction`, `edit`, `delete`). A message is named by
 * the short id `parley messages` shows after `#` (or any longer prefix, or its whole id).
 */

import type { ParleyClient } from "@parley/core";
import type { Command } from "commander";
import { formatMessage, type Output, print } from "./output.js";
import { messageJson } from "./words.js";

type Run = (
  action: (
    ctx: { client: ParleyClient; out: Output; opts: Record<string, unknown> },
    ...positional: string[]
  ) => Promise<void>,
) => (...args: unknown[]) => Promise<void>;
type Read = (value: string | undefined, what: string) => Promise<string>;

const ID_HELP = "the message's id as `parley messages` shows it after # (or a longer part of it)";

export function addMessageCommands(program: Command, run: Run, argumentOrStdin: Read): void {
  program
    .command("reply")
    .description("reply to a message: yours quotes it (in a group, @Name mentions a member)")
    .argument("<conversation>", "a contact's or a group's name")
    .argument("<message-id>", ID_HELP)
    .argument("[text]", "the reply; omitted or '-': read from standard input")
    .action(
      run(async ({ client, out }, conversation, id, text) => {
        const m = await client.reply(conversation!, id!, await argumentOrStdin(text, "the reply"));
        print(out, formatMessage(m), messageJson(m));
      }),
    );

  program
    .command("react")
    .description("react to a message with one emoji (replaces your earlier reaction); --remove takes it back")
    .argument("<conversation>", "a contact's or a group's name")
    .argument("<message-id>", ID_HELP)
    .argument("[emoji]", "one emoji, e.g. 👍")
    .option("--remove", "take your reaction back")
    .action(
      run(async ({ client, out, opts }, conversation, id, emoji) => {
        const m = await client.react(conversation!, id!, opts.remove ? null : (emoji ?? ""));
        print(out, formatMessage(m), messageJson(m));
      }),
    );

  program
    .command("edit")
    .description("change the text of a message of yours, for everyone (shown as edited)")
    .argument("<conversation>", "a contact's or a group's name")
    .argument("<message-id>", ID_HELP)
    .argument("[text]", "the new text; omitted or '-': read from standard input")
    .action(
      run(async ({ client, out }, conversation, id, text) => {
        const m = await client.editMessage(conversation!, id!, await argumentOrStdin(text, "the new text"));
        print(out, formatMessage(m), messageJson(m));
      }),
    );

  program
    .command("delete-message")
    .description("delete a message of yours for everyone: its text is removed from every device")
    .argument("<conversation>", "a contact's or a group's name")
    .argument("<message-id>", ID_HELP)
    .action(
      run(async ({ client, out }, conversation, id) => {
        const m = await client.deleteMessage(conversation!, id!);
        print(out, formatMessage(m), messageJson(m));
      }),
    );
}
