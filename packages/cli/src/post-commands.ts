/**
 * `parley post`, `feed`, `comment`, `like`, `audience`: friends-only posts, end to end
 * (docs/04-posts.md). A post is named by the short id `parley feed` shows after `#` (or a longer
 * part of it, or the whole id).
 */
import type { AudienceView, ParleyClient, SendFileInput } from "@parley/core";
import { fileSource, nodeAesGcm, nodeSha256 } from "@parley/node";
import type { Command } from "commander";
import { joinList, tr } from "./i18n.js";
import { type Output, print } from "./output.js";
import { formatPost, postJson } from "./post-words.js";
import { terminalText as t } from "./terminal-text.js";

type Run = (
  action: (
    ctx: { client: ParleyClient; out: Output; opts: Record<string, unknown> },
    ...positional: string[]
  ) => Promise<void>,
) => (...args: unknown[]) => Promise<void>;
type Read = (value: string | undefined, what: string) => Promise<string>;

const POST_ID_HELP = "the post's id as `parley feed` shows it after # (or a longer part of it)";
const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "24h", "7d", "30m", "90s" in milliseconds; NaN for anything else (the engine refuses it). */
export function parseDuration(text: string): number {
  const m = /^(\d{1,6})([smhd])$/.exec(text.trim());
  return m ? Number(m[1]) * UNITS[m[2]!]! : Number.NaN;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

function audienceText(a: AudienceView): string {
  const name = a.everyone ? tr("cli.post.audienceAll") : t(a.name);
  const people = a.members.map((m) => `${t(m.name)}${m.pending ? tr("cli.post.pending") : ""}`);
  return tr("cli.post.audienceRow", {
    name,
    people: people.length ? joinList(people) : tr("cli.post.nobody"),
  });
}

export function addPostCommands(program: Command, run: Run, argumentOrStdin: Read): void {
  const post = program
    .command("post")
    .description("share a post with all your contacts or an audience; `post delete` deletes one")
    .argument("[text]", "the post's text; '-': read from standard input")
    .option("--image <path>", "a photo (up to 9; location and camera data removed)", collect)
    .option("--audience <name>", 'who sees it: an audience of yours (default "all": every contact)')
    .option("--expire <time>", "vanish from every device after this long: 30m, 24h, 7d (at most 30d)")
    .action(
      run(async ({ client, out, opts }, text) => {
        const paths = (opts.image as string[] | undefined) ?? [];
        const body =
          text === undefined && paths.length > 0 ? "" : await argumentOrStdin(text, tr("cli.thePost"));
        const opened = await Promise.all(paths.map((p) => fileSource(p)));
        try {
          const images: SendFileInput[] = opened.map((f, n) => ({
            source: f.source,
            sourceId: f.sourceId,
            name: paths[n]!,
            hasher: nodeSha256,
            aead: nodeAesGcm,
          }));
          const view = await client.post({
            text: body,
            images,
            ...(typeof opts.audience === "string" ? { audience: opts.audience } : {}),
            ...(typeof opts.expire === "string" ? { expiresInMs: parseDuration(opts.expire) } : {}),
          });
          print(out, formatPost(view), postJson(view));
        } finally {
          for (const f of opened) await f.close();
        }
      }),
    );
  post
    .command("delete")
    .description("delete a post of yours from every device of its audience, with its photos")
    .argument("<post-id>", POST_ID_HELP)
    .action(
      run(async ({ client, out }, id) => {
        const deleted = await client.deletePost(id!);
        print(out, tr("cli.postDeleted", { id: t(deleted.id.slice(0, 6)) }), deleted);
      }),
    );

  program
    .command("feed")
    .description("your friends' posts and yours, newest first, with comments and likes")
    .option("--from <contact>", 'only this contact\'s posts ("me": yours)')
    .option("--limit <n>", "at most this many posts", "100")
    .action(
      run(async ({ client, out, opts }) => {
        const posts = await client.feed({
          ...(typeof opts.from === "string" ? { from: opts.from } : {}),
          limit: Number.parseInt(String(opts.limit), 10) || 100,
        });
        print(
          out,
          posts.length ? posts.map(formatPost).join("\n\n") : tr("cli.noPosts"),
          posts.map(postJson),
        );
      }),
    );

  program
    .command("comment")
    .description("comment on a post: its audience sees your comment, nobody else")
    .argument("<post-id>", POST_ID_HELP)
    .argument("[text]", "the comment; omitted or '-': read from standard input")
    .action(
      run(async ({ client, out }, id, text) => {
        const view = await client.comment(id!, await argumentOrStdin(text, tr("cli.theComment")));
        print(out, formatPost(view), postJson(view));
      }),
    );

  program
    .command("like")
    .description("like a post (its audience sees it); --undo takes the like back")
    .argument("<post-id>", POST_ID_HELP)
    .option("--undo", "take your like back")
    .action(
      run(async ({ client, out, opts }, id) => {
        const view = await client.like(id!, opts.undo !== true);
        print(out, formatPost(view), postJson(view));
      }),
    );

  const audience = program.command("audience").description("who your posts go to: named lists of contacts");
  const show = (out: Output, a: AudienceView) => print(out, audienceText(a), a);
  audience
    .command("create")
    .argument("<name>", "the audience's name (only you see it)")
    .argument("[contacts...]", "contacts in it")
    .action(
      run(async ({ client, out }, name, ...rest) => {
        const contacts = (rest[0] as unknown as string[] | undefined) ?? [];
        show(out, await client.createAudience(name!, contacts));
      }),
    );
  audience
    .command("add")
    .argument("<name>", "the audience")
    .argument("<contacts...>", "contacts to add: they see your posts to it from now on")
    .action(
      run(async ({ client, out }, name, contacts) =>
        show(out, await client.addToAudience(name!, contacts as unknown as string[])),
      ),
    );
  audience
    .command("remove")
    .argument("<name>", "the audience")
    .argument("<contacts...>", "contacts to remove: they read none of your later posts to it")
    .action(
      run(async ({ client, out }, name, contacts) =>
        show(out, await client.removeFromAudience(name!, contacts as unknown as string[])),
      ),
    );
  audience
    .command("show")
    .argument("<name>", 'the audience ("all": every contact)')
    .action(run(async ({ client, out }, name) => show(out, await client.showAudience(name!))));
  audience.command("list").action(
    run(async ({ client, out }) => {
      const list = await client.audiences();
      print(out, list.length ? list.map(audienceText).join("\n") : tr("cli.noAudiences"), list);
    }),
  );
}
