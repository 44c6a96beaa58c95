/** `parley expire TARGET 30s|1h|1d|7d|off`: disappearing messages (issue 13; client/expire/). */
import type { ParleyClient } from "@parley/core";
import { Argument, type Command } from "commander";
import { eventJson, formatEvent, type Output, print } from "./output.js";

type Run = (
  action: (ctx: { client: ParleyClient; out: Output }, ...positional: string[]) => Promise<void>,
) => (...args: unknown[]) => Promise<void>;

const TIMERS = { "30s": 30, "1h": 3600, "1d": 86_400, "7d": 604_800, off: null } as const;

export function addExpireCommand(program: Command, run: Run): void {
  program
    .command("expire")
    .description(
      "disappearing messages: every member's device deletes messages (and their files) after this long (in a group: admins only)",
    )
    .argument("<target>", "a contact's name, a group's name, or an id")
    .addArgument(new Argument("<time>", "how long messages stay").choices(Object.keys(TIMERS)))
    .action(
      run(async ({ client, out }, target, time) => {
        const event = await client.setExpiry(target!, TIMERS[time as keyof typeof TIMERS]);
        print(out, formatEvent(event) ?? "", eventJson(event));
      }),
    );
}
