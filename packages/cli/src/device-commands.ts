/**
 * Issue 13: `parley reset` and `parley contact accept-key` (recovering from a compromised device,
 * accepting a contact's changed safety number), and our devices: `parley device link`,
 * `parley devices`, `parley device revoke` (`parley init --link` is in main.ts, next to init).
 */
import { createInterface } from "node:readline";
import type { ConversationView, ParleyClient } from "@parley/core";
import type { Command } from "commander";
import QRCode from "qrcode";
import { tr } from "./i18n.js";
import { eventJson, formatEvent, type Output, print, time } from "./output.js";
import { jsonText, terminalText as t } from "./terminal-text.js";

type Run = (
  action: (
    ctx: { client: ParleyClient; out: Output; opts: Record<string, unknown> },
    ...positional: string[]
  ) => Promise<void>,
) => (...args: unknown[]) => Promise<void>;

/** One line from standard input (a prompt first on a terminal); "" at its end. */
export async function readLine(prompt: string): Promise<string> {
  const rl = createInterface({
    input: process.stdin,
    output: process.stdin.isTTY ? process.stderr : undefined,
  });
  try {
    return await new Promise<string>((resolve) => {
      rl.once("close", () => resolve(""));
      if (process.stdin.isTTY) rl.question(prompt, resolve);
      else rl.once("line", resolve);
    });
  } finally {
    rl.close();
  }
}

/** "--timeout 600" → ms (default 10 minutes for each step the other device has to take). */
export const timeoutMs = (v: unknown): number => {
  const s = Number(v ?? 600);
  return Number.isFinite(s) && s > 0 ? s * 1000 : 600_000;
};

/** Names for conversation ids, for the lines about those a device could not join. */
async function conversationNames(client: ParleyClient): Promise<Map<string, string>> {
  const all: ConversationView[] = await client.conversations();
  return new Map(all.map((c) => [c.id, c.name]));
}

export function addDeviceCommands(program: Command, contact: Command, run: Run): void {
  const device = program.command("device").description("link a new device of yours, or revoke one");
  device
    .command("link")
    .description(
      "print a one-time link (and a QR code) for a new device; confirm with the code it then shows",
    )
    .option("--timeout <seconds>", "how long to wait for the new device at each step", "600")
    .option(
      "--with-history",
      "also give the new device the history of every chat and group it joins, sealed end to end (the relay sees only padded ciphertext)",
    )
    .action(
      run(async ({ client, out, opts }) => {
        const wait = timeoutMs(opts.timeout);
        const offer = await client.createDeviceLink();
        try {
          if (out.json) process.stdout.write(`${jsonText({ link: offer.link })}\n`);
          else {
            const qr = await QRCode.toString(offer.link, { type: "terminal", small: true });
            process.stdout.write(`${qr}\n${tr("cli.device.linkShown", { link: offer.link })}\n`);
            process.stderr.write(`${tr("cli.device.waiting")}\n`);
          }
          const request = await client.awaitLinkRequest(offer, wait);
          if (out.json) process.stdout.write(`${jsonText({ device: request.device, code: request.code })}\n`);
          // The person types the code the new device shows: comparing is then not skippable.
          const typed = await readLine(tr("cli.device.codePrompt", { device: t(request.device) }));
          const r = await client.completeLink(request, typed.replace(/\s/g, ""), wait, {
            withHistory: opts.withHistory === true,
          });
          const names = await conversationNames(client);
          const skipped = r.skipped.map((s) =>
            tr("cli.device.skipped", { what: t(names.get(s.id) ?? s.id), cause: t(s.cause) }),
          );
          print(
            out,
            [
              ...r.events.flatMap((e) => formatEvent(e) ?? []),
              tr("cli.device.linked", { device: t(r.device.name), count: r.linked.length }),
              ...(r.history ? [tr("cli.device.historySent", { count: r.history.messages })] : []),
              ...skipped,
            ].join("\n"),
            {
              device: r.device,
              linked: r.linked,
              skipped: r.skipped,
              ...(r.history ? { history: { messages: r.history.messages, posts: r.history.posts } } : {}),
              events: r.events.map(eventJson),
            },
          );
        } catch (e) {
          await client.cancelDeviceLink(offer);
          throw e;
        }
      }),
    );

  device
    .command("revoke")
    .description(
      "remove a device of yours from every chat and group (it reads nothing new and can no longer send as you)",
    )
    .argument("<name>", "the device's name, as `parley devices` lists it")
    .action(
      run(async ({ client, out }, name) => {
        const r = await client.revokeDevice(name!);
        const pending = r.pending.length ? [tr("cli.device.revokePending", { count: r.pending.length })] : [];
        print(
          out,
          [
            ...r.events.flatMap((e) => formatEvent(e) ?? []),
            tr("cli.device.revoked", { device: t(r.name), count: r.revoked.length }),
            ...pending,
          ].join("\n"),
          { ...r, events: r.events.map(eventJson) },
        );
      }),
    );

  program
    .command("devices")
    .description("list your devices: name, when added, in how many chats and groups")
    .action(
      run(async ({ client, out }) => {
        const all = await client.devices();
        const lines = all.map((d) =>
          tr("cli.device.line", {
            name: d.name ? t(d.name) : tr("cli.device.unnamed"),
            current: d.current ? tr("cli.device.thisOne") : "",
            added: d.added ? time(d.added) : tr("cli.device.unknownDate"),
            count: d.conversations,
            active: d.lastActive && !d.current ? tr("cli.device.activeAt", { at: time(d.lastActive) }) : "",
            revoked: d.revoked ? tr("cli.device.revokedAt", { at: time(d.revoked) }) : "",
          }),
        );
        print(out, lines.join("\n"), all);
      }),
    );

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
