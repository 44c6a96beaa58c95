/**
 * `parley reset` and `parley contact accept-key` (issue 13): recovering from a compromised device,
 * and accepting a contact's changed safety number. (Device linking joins these here.)
 */
import type { ParleyClient } from "@parley/core";
import type { Command } from "commander";
import { tr } from "./i18n.js";
import { eventJson, formatEvent, type Output, print } from "./output.js";
import { jsonText, terminalText as t } from "./terminal-text.js";

type Run = (
  action: (
    ctx: { client: ParleyClient; out: Output; opts: Record<string, unknown> },
    ...positional: string[]
  ) => Promise<void>,
) => (...args: unknown[]) => Promise<void>;

export function addDeviceCommands(program: Command, contact: Command, run: Run): void {
  program
    .command("reset")
    .description(
      "after a device was compromised: new identity key, new keys and addresses in every chat and group",
    )
    .option("--yes", "really reset (without it, only says what reset does)")
    .action(
      run(async ({ client, out, opts }) => {
        if (opts.yes !== true) {
          if (out.json)
            process.stdout.write(`${jsonText({ error: "confirmation required", code: "confirm" })}\n`);
          else process.stderr.write(`${tr("cli.reset.explained")}\n`);
          process.exitCode = 1;
          return;
        }
        const r = await client.resetKeys();
        const lines = r.events.flatMap((e) => formatEvent(e) ?? []);
        const pending =
          r.pending.length > 0 ? `\n${tr("cli.reset.pending", { count: r.pending.length })}` : "";
        print(
          out,
          [
            ...lines,
            `${tr("cli.reset.done", { count: r.reset.length })}${pending}`,
            tr("cli.reset.compareAgain"),
          ].join("\n"),
          {
            identityKey: r.profile.identityPublicKey,
            reset: r.reset,
            pending: r.pending,
            events: r.events.map(eventJson),
          },
        );
      }),
    );

  contact
    .command("accept-key")
    .description(
      "accept a verified contact's changed safety number without comparing it (sending to them resumes)",
    )
    .argument("<contact>", "a contact's name or id")
    .action(
      run(async ({ client, out }, name) => {
        const c = await client.acceptKeyChange(name!);
        print(out, tr("cli.keyAccepted", { name: t(c.name) }), c);
      }),
    );
}
