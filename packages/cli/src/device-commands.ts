/**
 * `parley reset` and `parley contact accept-key` (issue 13): recovering from a compromised device,
 * and accepting a contact's changed safety number. (Device linking joins these here.)
 */
import type { ParleyClient } from "@parley/core";
import type { Command } from "commander";
import { eventJson, formatEvent, type Output, print } from "./output.js";
import { jsonText, terminalText as t } from "./terminal-text.js";

type Run = (
  action: (
    ctx: { client: ParleyClient; out: Output; opts: Record<string, unknown> },
    ...positional: string[]
  ) => Promise<void>,
) => (...args: unknown[]) => Promise<void>;

const RESET_EXPLAINED = `parley reset replaces your keys after a device of yours was compromised (taken, or infected):
  - a new identity key: your contacts see your safety number change and are asked to compare it again;
  - new keys in every chat and group, and new relay addresses for your chats: a copy of this
    profile taken before now can no longer read what is sent to you, nor send as you;
  - pending invite links stop working; your contacts get new key packages.
Everything already in your history stays. Run it from a device you trust, then compare safety
numbers with your contacts again. Confirm with: parley reset --yes`;

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
          else process.stderr.write(`${RESET_EXPLAINED}\n`);
          process.exitCode = 1;
          return;
        }
        const r = await client.resetKeys();
        const lines = r.events.flatMap((e) => formatEvent(e) ?? []);
        const pending =
          r.pending.length > 0
            ? `\n${r.pending.length} could not be reached and still use the old keys: run parley reset --yes again`
            : "";
        print(
          out,
          [
            ...lines,
            `Your keys are new: ${r.reset.length} chats and groups carried over.${pending}`,
            "Ask your contacts to compare safety numbers with you again.",
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
        print(
          out,
          `Accepted ${t(c.name)}'s new safety number (not verified: compare it with parley safety "${t(c.name)}")`,
          c,
        );
      }),
    );
}
