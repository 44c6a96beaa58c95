/**
 * Group invite links (issue 14; core client/group-links/): `group invite-link`, `group requests`,
 * `group approve`, `group decline`. Opening a link is `parley accept`, the same command as for a
 * contact's invite link (main.ts tells the two apart by the link's shape).
 */
import type { GroupLinkView, JoinRequestedView, ParleyClient } from "@parley/core";
import type { Command } from "commander";
import { tr } from "./i18n.js";
import { eventJson, formatEvent, type Output, print, time } from "./output.js";
import { parseDuration } from "./post-commands.js";
import { terminalText as t } from "./terminal-text.js";

type Run = (
  action: (
    ctx: { client: ParleyClient; out: Output; opts: Record<string, string | boolean | undefined> },
    ...positional: string[]
  ) => Promise<void>,
) => (...args: unknown[]) => Promise<void>;

function linkText(v: GroupLinkView): string {
  const group = t(v.group);
  return [
    tr("cli.groupLink.made", { group, link: v.link }),
    "",
    v.expiresAt
      ? tr("cli.groupLink.expires", { time: time(v.expiresAt) })
      : tr("cli.groupLink.noExpiry", { group }),
    tr(v.approve ? "cli.groupLink.approve" : "cli.groupLink.open", { group }),
  ].join("\n");
}

export const joinRequestedText = (v: JoinRequestedView): string =>
  tr(v.approve ? "cli.groupLink.askedApproval" : "cli.groupLink.asked", { group: t(v.group) });

export function addGroupLinkCommands(group: Command, run: Run): void {
  group
    .command("invite-link")
    .description(
      "make a link that lets whoever opens it ask to join (admins only); a new link replaces the last",
    )
    .argument("<group>", "the group's name or id")
    .option("--expires <time>", "the link stops working after this long: 30m, 24h, 7d…")
    .option("--approve", "an admin approves each request (parley group requests / approve)")
    .option("--revoke", "stop the group's link instead: nobody can open it any more")
    .option("--show", "print the group's current link instead of making a new one")
    .action(
      run(async ({ client, out, opts }, name) => {
        if (opts.revoke) {
          await client.revokeGroupLink(name!);
          print(out, tr("cli.groupLink.revoked", { group: t(name!) }), { revoked: true, group: name });
          return;
        }
        if (opts.show) {
          const current = await client.groupLink(name!);
          print(out, current ? linkText(current) : tr("cli.groupLink.none", { group: t(name!) }), current);
          return;
        }
        const v = await client.createGroupLink(name!, {
          ...(typeof opts.expires === "string" ? { expiresInMs: parseDuration(opts.expires) } : {}),
          approve: opts.approve === true,
        });
        print(out, linkText(v), v);
      }),
    );

  group
    .command("requests")
    .description("list the people who asked to join through the group's link and wait for approval")
    .argument("<group>", "the group's name or id")
    .action(
      run(async ({ client, out }, name) => {
        const requests = await client.joinRequests(name!);
        const human = requests.length
          ? requests
              .map((r) => tr("cli.groupLink.requestRow", { name: t(r.name), id: r.id, time: time(r.at) }))
              .join("\n")
          : tr("cli.groupLink.noRequests", { group: t(name!) });
        print(out, human, requests);
      }),
    );

  group
    .command("approve")
    .description("add someone who asked to join through the group's link (admins only)")
    .argument("<group>", "the group's name or id")
    .argument("<name>", "the name they gave, or the request's id (parley group requests)")
    .action(
      run(async ({ client, out }, name, who) => {
        const { added, events } = await client.approveJoinRequest(name!, who!);
        if (!out.json)
          for (const line of events.flatMap((e) => formatEvent(e) ?? [])) process.stderr.write(`${line}\n`);
        print(out, tr("cli.groupLink.approved", { name: t(added.name ?? ""), group: t(name!) }), {
          added,
          events: events.map(eventJson),
        });
      }),
    );

  group
    .command("decline")
    .description("turn down a request to join through the group's link (they are not told)")
    .argument("<group>", "the group's name or id")
    .argument("<name>", "the name they gave, or the request's id")
    .action(
      run(async ({ client, out }, name, who) => {
        await client.declineJoinRequest(name!, who!);
        print(out, tr("cli.groupLink.declined", { name: t(who!) }), { declined: who, group: name });
      }),
    );
}
