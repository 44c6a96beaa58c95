/**
 * `parley read` and `parley typing`: read receipts and typing indicators, sent where the
 * conversation allows them (`parley read-receipts`, `parley typing-indicators`; on by default in
 * chats, off in groups). Who read our messages shows in `parley messages` ("(read)") and its --json
 * (`readBy`); `listen` prints both as they arrive.
 */
import type { ParleyClient } from "@parley/core";
import type { Command } from "commander";
import { tr } from "./i18n.js";
import { type Output, print } from "./output.js";
import { terminalText as t } from "./terminal-text.js";

type Run = (
  action: (
    ctx: { client: ParleyClient; out: Output; opts: Record<string, unknown> },
    ...positional: string[]
  ) => Promise<void>,
) => (...args: unknown[]) => Promise<void>;

export function addReadCommands(program: Command, run: Run): void {
  program
    .command("read")
    .description("mark a chat or group read; sends a read receipt where read receipts are on")
    .argument("<conversation>", "a contact's or a group's name, or an id")
    .action(
      run(async ({ client, out }, conversation) => {
        const r = await client.markRead(conversation!);
        const human =
          r.ids.length === 0
            ? tr("cli.nothingToMarkRead")
            : tr(r.sent ? "cli.markedReadSent" : "cli.markedReadQuiet", { count: r.ids.length });
        print(out, t(human), r);
      }),
    );

  program
    .command("typing")
    .description(
      "show a chat or group that you are typing (--stop: that you stopped), where typing indicators are on",
    )
    .argument("<conversation>", "a contact's or a group's name, or an id")
    .option("--stop", "say you stopped typing")
    .action(
      run(async ({ client, out, opts }, conversation) => {
        const sent = await client.sendTyping(conversation!, opts.stop !== true);
        print(out, tr(sent ? "cli.typingSent" : "cli.typingNotSent"), { sent });
      }),
    );
}
