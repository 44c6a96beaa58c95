import { readFile } from "node:fs/promises";
import { hostname } from "node:os";
import {
  type ClientEvent,
  type GroupMemberView,
  InviteError,
  isGroupLink,
  type ParleyClient,
} from "@parley/core";
import { isLanguage, LANGUAGES } from "@parley/i18n";
import { openProfileUnlocked, resolveHome } from "@parley/node";
/**
 * `parley`'s commands: the scriptable Parley client. Every command takes --home and --json; errors
 * print one clear line (or {"error","code"} with --json) and exit non-zero. The descriptions here
 * are the English of `parley --help`; what is shown comes from the catalogue (help.ts, main.ts).
 */
import { Argument, Command, Option } from "commander";
import { addDeviceCommands, timeoutMs } from "./device-commands.js";
import { addExpireCommand } from "./expire-command.js";
import { deleteFileCommand, filesCommand, getFileCommand, sendFileCommand } from "./file-commands.js";
import { addGroupLinkCommands, joinRequestedText } from "./group-link-commands.js";
import { chosenLanguage, currentLanguage, languageFor, saveLanguage, tr, useLanguage } from "./i18n.js";
import { addMessageCommands } from "./message-commands.js";
import { eventJson, formatEvent, formatMessage, type Output, print } from "./output.js";
import { addPassphraseCommands, currentPassphrase } from "./passphrase-commands.js";
import { addPostCommands } from "./post-commands.js";
import { addReadCommands } from "./read-commands.js";
import { addSearchCommand } from "./search-command.js";
import { jsonText, terminalText as t } from "./terminal-text.js";
import {
  errorCode,
  errorText,
  expireWords,
  megabytes,
  memberJson,
  messageJson,
  personLabel,
  WordedInviteError,
} from "./words.js";

export const program = new Command()
  .name("parley")
  .description("Parley: end-to-end encrypted chats with no phone number, email or ID.")
  .addOption(new Option("--home <dir>", "profile folder (default: $PARLEY_HOME, else ~/.parley)"))
  .option("--json", "print machine-readable JSON", false)
  .showHelpAfterError();

interface Context {
  client: ParleyClient;
  /** The profile folder. */
  home: string;
  out: Output;
  opts: Record<string, string | boolean | undefined>;
}
type Action = (ctx: Context, ...positional: string[]) => Promise<void>;

/** Wraps a command: opens the profile, prints errors as one clear line (or JSON), always closes. */
function run(action: Action) {
  return async (...args: unknown[]) => {
    // Commander calls actions with (positional…, options, command).
    const cmd = args[args.length - 1] as Command;
    const globals = cmd.optsWithGlobals() as { home?: string; json: boolean };
    const out: Output = { json: globals.json };
    let profile: Awaited<ReturnType<typeof openProfileUnlocked>> | undefined;
    try {
      const home = resolveHome(globals.home);
      // Human output in the person's language; --json in English (its codes are the contract).
      useLanguage(languageFor(home, out.json));
      profile = await openProfileUnlocked(home, currentPassphrase);
      await action(
        { client: profile.client, home, out, opts: cmd.opts() },
        ...(args.slice(0, -2) as string[]),
      );
    } catch (e) {
      // Error words may quote names chosen by others ("Carol is already in …"): escaped too.
      if (out.json) process.stdout.write(`${jsonText({ error: errorText(e), code: errorCode(e) })}\n`);
      else process.stderr.write(`${tr("cli.error", { text: t(errorText(e)) })}\n`);
      process.exitCode = 1;
    } finally {
      await profile?.close();
    }
  };
}

/**
 * A positional argument, or standard input when it is omitted or "-". Whatever is on a command
 * line can be read by every user of the machine (/proc/PID/cmdline, `ps`); standard input cannot.
 * One trailing newline (from `echo` or the Enter before Ctrl-D) is dropped.
 */
async function argumentOrStdin(value: string | undefined, what: string): Promise<string> {
  if (value !== undefined && value !== "-") return value;
  if (process.stdin.isTTY) process.stderr.write(`${tr("cli.typeThen", { what })}\n`);
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString("utf8")
    .replace(/\r?\n$/, "");
}

const printEvents = (out: Output, events: ClientEvent[]) => {
  const messages = events.flatMap((e) => (e.type === "message" ? [messageJson(e.message)] : []));
  if (out.json) {
    process.stdout.write(`${jsonText(messages)}\n`);
    for (const e of events) if (e.type !== "message") process.stderr.write(`${jsonText(eventJson(e))}\n`);
    return;
  }
  const lines = events.flatMap((e) => formatEvent(e) ?? []);
  process.stdout.write(`${lines.length ? lines.join("\n") : tr("cli.noNewMessages")}\n`);
};

program
  .command("init")
  .description(
    "create this device's identity and profile (no phone number, no email), or with --link make it a new device of a profile you have on another device",
  )
  .option("--name <name>", "the name your contacts will see")
  .option("--server <url>", "your relay, e.g. http://127.0.0.1:8787")
  .option(
    "--link <link>",
    "a link from `parley device link` on your other device ('-': read it from standard input)",
  )
  .option(
    "--device <name>",
    "with --link: this device's name among yours",
    hostname().split(".")[0] || "device",
  )
  .option("--timeout <seconds>", "with --link: how long to wait for the other device at each step", "600")
  .action(
    run(async ({ client, out, opts }) => {
      if (opts.link !== undefined) {
        const link = await argumentOrStdin(String(opts.link), tr("cli.theLink"));
        const pending = await client.beginDeviceLink(link, String(opts.device));
        if (out.json) process.stdout.write(`${jsonText({ device: pending.device, code: pending.code })}\n`);
        else process.stdout.write(`${tr("cli.device.code", { code: pending.code })}\n`);
        const r = await client.finishDeviceLink(pending, timeoutMs(opts.timeout));
        const skipped = r.skipped.map((s) => tr("cli.device.skipped", { what: s.id, cause: t(s.cause) }));
        print(
          out,
          [
            tr("cli.device.joined", {
              device: t(pending.device),
              name: t(r.profile.name),
              count: r.joined.length,
            }),
            ...(r.history ? [tr("cli.device.historyReceived", { count: r.history.messages })] : []),
            ...skipped,
          ].join("\n"),
          { name: r.profile.name, server: r.profile.relay, device: pending.device, ...r, profile: undefined },
        );
        return;
      }
      if (opts.name === undefined || opts.server === undefined) {
        throw new Error(tr("cli.device.initNeeds"));
      }
      // A mistyped address is caught here, before a profile exists that could not use it.
      await client.checkRelay(String(opts.server));
      const p = await client.init(String(opts.name), String(opts.server));
      print(out, tr("cli.created", { name: t(p.name), server: t(p.relay) }), {
        name: p.name,
        server: p.relay,
      });
    }),
  );

const config = program.command("config").description("this profile's settings");

config
  .command("get")
  .description("show the settings")
  .action(
    run(async ({ client, home, out }) => {
      const p = await client.profile();
      const chosen = chosenLanguage(home);
      const language = chosen ?? tr("cli.languageAuto", { language: currentLanguage() });
      print(out, tr("cli.config", { name: t(p.name), server: t(p.relay), language }), {
        name: p.name,
        server: p.relay,
        language: chosen ?? "auto",
      });
    }),
  );

config
  .command("set")
  .description(
    `change a setting: name (your display name; every contact and group is told, end to end), server URL (the relay for new invites and conversations; checked first) or language (${LANGUAGES.join(", ")} or auto: this device's CLI only)`,
  )
  .addArgument(new Argument("<key>", "the setting").choices(["name", "server", "language"]))
  .argument("<value>", "the new value")
  .action(
    run(async ({ client, home, out }, key, value) => {
      if (key === "language") {
        if (value !== "auto" && !isLanguage(value)) {
          throw new Error(tr("cli.badLanguage", { value: t(value!), choices: LANGUAGES.join(", ") }));
        }
        saveLanguage(home, value);
        if (!out.json) useLanguage(languageFor(home, false));
        const line =
          value === "auto"
            ? tr("cli.languageNowAuto", { language: currentLanguage() })
            : tr("cli.languageNow", { language: value });
        print(out, line, { language: value });
        return;
      }
      if (key === "name") {
        const { profile, events } = await client.setProfileName(value!);
        for (const e of events) {
          const line = out.json ? undefined : formatEvent(e);
          if (line) process.stderr.write(`${line}\n`);
        }
        print(out, tr("cli.nameNow", { name: t(profile.name) }), { name: profile.name, events });
        return;
      }
      const p = await client.setRelay(value!);
      print(out, tr("cli.serverNow", { server: t(p.relay) }), { server: p.relay });
    }),
  );

program
  .command("invite")
  .description("print a one-time invite link; whoever opens it first becomes your contact")
  .action(
    run(async ({ client, out }) => {
      const { link } = await client.createInvite();
      print(out, tr("cli.invite", { link }), { link });
    }),
  );

program
  .command("accept")
  .description(
    "accept an invite link and become that person's contact; a group's link (…/#/join/…) asks to join the group",
  )
  .argument(
    "[link]",
    "the invite link; omitted or '-': read from standard input (keeps its key out of the process list)",
  )
  .action(
    run(async ({ client, out }, link) => {
      const text = await argumentOrStdin(link, tr("cli.theLink"));
      if (isGroupLink(text)) {
        // The engine's InviteError says what went wrong in English; the person reads it in theirs.
        const asked = await client.joinGroupByLink(text).catch((e: unknown) => {
          throw e instanceof InviteError
            ? new WordedInviteError(tr(`cli.groupLink.error.${e.reason}`), e.reason)
            : e;
        });
        print(out, joinRequestedText(asked), { ...asked, requested: true });
        return;
      }
      const c = await client.acceptInvite(text);
      print(out, tr("cli.accepted", { name: t(c.name) }), c);
    }),
  );

program
  .command("contacts")
  .description("list your contacts")
  .action(
    run(async ({ client, out }) => {
      const list = await client.contacts();
      const human = list.length
        ? list
            .map(
              (c) =>
                `${t(c.name)}${c.verified ? tr("cli.verified") : ""}${c.keyChanged ? tr("cli.identityChanged") : ""}${c.mustAccept ? tr("cli.notSendingUntilAccepted") : ""}`,
            )
            .join("\n")
        : tr("cli.noContacts");
      print(out, human, list);
    }),
  );

program
  .command("conversations")
  .description("list your chats and groups, with the ids every command also accepts")
  .option("--archived", "list the archived ones instead")
  .action(
    run(async ({ client, out, opts }) => {
      const all = await client.conversations();
      const list = all.filter((c) => c.archived === (opts.archived === true));
      const hidden = all.length - list.length;
      const more = opts.archived || hidden === 0 ? "" : `\n${tr("cli.archivedHidden", { count: hidden })}`;
      const human = list.length
        ? list
            .map((c) => {
              const what =
                c.kind === "direct"
                  ? tr("cli.chat")
                  : c.status !== "active"
                    ? tr("cli.groupStatus", { status: tr(`cli.status.${c.status ?? "left"}`) })
                    : tr(c.admin ? "cli.groupAdmin" : "cli.group");
              const timer = c.expireAfter ? tr("cli.expireFlag", { time: expireWords(c.expireAfter) }) : "";
              const flags = `${c.canSend ? "" : tr("cli.cannotSendYet")}${c.muted ? tr("cli.mutedFlag") : ""}${timer}`;
              return tr("cli.conversationRow", { id: c.id, name: t(c.name), what, flags });
            })
            .join("\n") + more
        : opts.archived
          ? tr("cli.noArchived")
          : `${tr("cli.noConversations")}${more}`;
      print(out, human, list);
    }),
  );

for (const [name, flag, on, off, description] of [
  [
    "mute",
    "muted",
    "cli.muted",
    "cli.unmuted",
    "no notifications for a chat or group (this device only; --off to undo)",
  ],
  [
    "archive",
    "archived",
    "cli.archived",
    "cli.unarchived",
    "move a chat or group out of the conversation list until a new message arrives (--off to undo)",
  ],
  [
    "read-receipts",
    "readReceipts",
    "cli.readReceiptsOn",
    "cli.readReceiptsOff",
    "tell a chat or group when you have read its messages (default: on in chats, off in groups; --off to stop)",
  ],
  [
    "typing-indicators",
    "typingIndicators",
    "cli.typingOn",
    "cli.typingOff",
    "let a chat or group see when you are typing (default: on in chats, off in groups; --off to stop)",
  ],
] as const) {
  program
    .command(name)
    .description(description)
    .argument("<target>", "a contact's name, a group's name, or an id")
    .option("--off", name === "mute" ? "unmute" : name === "archive" ? "bring it back" : "turn it off")
    .action(
      run(async ({ client, out, opts }, target) => {
        const value = opts.off !== true;
        const c = await client.setConversationSettings(target!, { [flag]: value });
        print(out, tr(value ? on : off, { name: t(c.name) }), c);
      }),
    );
}

program
  .command("send")
  .description("send an end-to-end encrypted message to a contact or a group")
  .argument("<to>", "a contact's or a group's name")
  .argument(
    "[text]",
    "the message; omitted or '-': read from standard input (keeps it out of the process list)",
  )
  .action(
    run(async ({ client, out }, contact, text) => {
      const m = await client.send(contact!, await argumentOrStdin(text, tr("cli.theMessage")));
      const waiting = m.status === "sending" ? `\n${tr("cli.waiting")}` : "";
      print(out, formatMessage(m) + waiting, messageJson(m));
    }),
  );

program
  .command("send-file")
  .description("send a file or photo, end-to-end encrypted; images lose their location and camera data")
  .argument("<to>", "a contact's or a group's name")
  .argument("<path>", "the file")
  .option("--caption <text>", "a caption shown with the file")
  .option("--keep-metadata", "send images with their EXIF/XMP/IPTC metadata (location, camera, times)")
  .action(
    run(async ({ client, out, opts }, to, path) => {
      await sendFileCommand(client, out, to!, path!, {
        ...(typeof opts.caption === "string" ? { caption: opts.caption } : {}),
        keepMetadata: opts.keepMetadata === true,
      });
    }),
  );

program
  .command("files")
  .description("list the files of a conversation: ids, names, sizes, real types, warnings")
  .argument("<conversation>", "a contact's or a group's name")
  .action(run(async ({ client, out }, conversation) => filesCommand(client, out, conversation!)));

program
  .command("get-file")
  .description("download, verify and decrypt a file; warns when it is not what its name says")
  .argument("<file-id>", "the file's id (from `parley files` or `parley messages`)")
  .argument("[out]", "where to save it (a folder or a path; default: its name in the current folder)")
  .action(run(async ({ client, home, out }, id, dest) => getFileCommand(client, out, home, id!, dest)));

program
  .command("delete-file")
  .description(
    "delete a file you sent from the relay before it expires; its recipients can no longer fetch it",
  )
  .argument("<file-id>", "the file's id (from `parley files` or `parley messages`)")
  .action(run(async ({ client, out }, id) => deleteFileCommand(client, out, id!)));

program
  .command("sync")
  .description("fetch, decrypt and print new messages")
  .action(
    run(async ({ client, out }) => {
      printEvents(out, await client.sync());
    }),
  );

program
  .command("messages")
  .description("show the history with a contact or a group, from this device's store")
  .argument("<conversation>", "a contact's or a group's name")
  .option("--limit <n>", "at most this many, newest last", "100")
  .action(
    run(async ({ client, out, opts }, contact) => {
      const list = await client.messages(contact!, Number.parseInt(String(opts.limit), 10) || 100);
      print(
        out,
        list.length ? list.map(formatMessage).join("\n") : tr("cli.noMessages"),
        list.map(messageJson),
      );
    }),
  );

addMessageCommands(program, run, argumentOrStdin);
addSearchCommand(program, run, argumentOrStdin);
addReadCommands(program, run);
addPostCommands(program, run, argumentOrStdin);

program
  .command("safety")
  .description("show the safety number you share with a contact; compare it in person")
  .argument("<contact>", "a contact's name")
  .option("--verify", "mark it as compared and matching")
  .action(
    run(async ({ client, out, opts }, contact) => {
      if (opts.verify) await client.verifyContact(contact!);
      const s = await client.safetyNumber(contact!);
      const groups = s.safetyNumber.match(/.{5}/g)!.join(" ");
      print(
        out,
        tr(s.verified ? "cli.safetyVerified" : "cli.safety", { name: t(s.contact), digits: groups }),
        s,
      );
    }),
  );

const contact = program.command("contact").description("manage a contact");

contact
  .command("delete")
  .description(
    "delete a contact and your chats with them from this device; they are not told, and what they send no longer reaches you",
  )
  .argument("<contact>", "a contact's name or id")
  .action(
    run(async ({ client, out }, contact) => {
      const d = await client.deleteContact(contact!);
      const words = d.queuesLeftToExpire > 0 ? "cli.contactDeletedLeft" : "cli.contactDeleted";
      print(out, tr(words, { name: t(d.name) }), d);
    }),
  );

contact
  .command("block")
  .description(
    "block a contact: what they write is dropped without telling them, here and in groups (--off to unblock)",
  )
  .argument("<contact>", "a contact's name or id")
  .option("--off", "unblock")
  .action(
    run(async ({ client, out, opts }, contact) => {
      const c = await client.blockContact(contact!, opts.off !== true);
      print(
        out,
        c.blocked ? tr("cli.blocked", { name: t(c.name) }) : tr("cli.unblocked", { name: t(c.name) }),
        c,
      );
    }),
  );

contact
  .command("rename")
  .description("give a contact your own name for them (theirs no longer replaces it)")
  .argument("<contact>", "a contact's name or id")
  .argument("<name>", "the new name")
  .action(
    run(async ({ client, out }, contact, name) => {
      const c = await client.renameContact(contact!, name!);
      print(out, tr("cli.renamed", { old: t(contact!), name: t(c.name) }), c);
    }),
  );

addDeviceCommands(program, contact, run);
addPassphraseCommands(program);
addExpireCommand(program, run);

const group = program
  .command("group")
  .description("group chats: end-to-end encrypted, the relay cannot list members");

const formatMembers = (members: GroupMemberView[]) =>
  members
    .map((m) => {
      const name = m.isMe ? tr("cli.me") : t(personLabel(m));
      const role = tr(`cli.role.${m.role}`);
      return m.safety === "me"
        ? tr("cli.memberRow", { name, role })
        : tr("cli.memberRowSafety", { name, role, safety: tr(`cli.safetyState.${m.safety}`) });
    })
    .join("\n");

group
  .command("create")
  .description("create a group; you are its first member and admin")
  .argument("<name>", "the group's name (kept inside the encrypted group, never on the relay)")
  .option(
    "--pq",
    "post-quantum: the group's keys are agreed with X-Wing (ML-KEM-768 + X25519) instead of X25519 alone",
  )
  .action(
    run(async ({ client, out, opts }, name) => {
      const pq = opts.pq === true;
      const g = await client.createGroup(name!, { pq });
      print(out, tr(pq ? "cli.pqGroupCreated" : "cli.groupCreated", { name: t(g.name), id: g.id }), {
        ...g,
        pq,
      });
    }),
  );

group
  .command("add")
  .description("add contacts to a group (admins only); several names make one commit")
  .argument("<group>", "the group's name or id")
  .argument("<contacts...>", "contacts to add")
  .action(
    run(async ({ client, out }, name, ...contacts) => {
      const members = await client.addToGroup(name!, contacts.flat());
      print(out, formatMembers(members), members.map(memberJson));
    }),
  );

group
  .command("members")
  .description("list a group's members, their roles and safety-number status")
  .argument("<group>", "the group's name or id")
  .action(
    run(async ({ client, out }, name) => {
      const members = await client.groupMembers(name!);
      print(out, formatMembers(members), members.map(memberJson));
    }),
  );

group
  .command("remove")
  .description("remove people from a group (admins only); they cannot read anything sent afterwards")
  .argument("<group>", "the group's name or id")
  .argument("<contacts...>", "contacts to remove")
  .action(
    run(async ({ client, out }, name, ...contacts) => {
      const members = await client.removeFromGroup(name!, contacts.flat());
      print(out, formatMembers(members), members.map(memberJson));
    }),
  );

group
  .command("leave")
  .description("leave a group and delete its keys from this device")
  .argument("<group>", "the group's name or id")
  .action(
    run(async ({ client, out }, name) => {
      await client.leaveGroup(name!);
      print(out, tr("cli.left", { name: t(name!) }), { left: name });
    }),
  );

group
  .command("admin")
  .description("make a member an admin (admins only); --revoke takes it back")
  .argument("<group>", "the group's name or id")
  .argument("<contact>", "the member (a contact), or `me`")
  .option("--revoke", "take admin rights away instead")
  .action(
    run(async ({ client, out, opts }, name, contact) => {
      const members = await client.setGroupAdmin(name!, contact!, !opts.revoke);
      print(out, formatMembers(members), members.map(memberJson));
    }),
  );

group
  .command("rename")
  .description("rename a group (admins only)")
  .argument("<group>", "the group's current name or id")
  .argument("<new-name>", "the new name")
  .action(
    run(async ({ client, out }, name, newName) => {
      const g = await client.renameGroup(name!, newName!);
      print(out, tr("cli.groupRenamed", { name: t(g.name) }), g);
    }),
  );

group
  .command("rekey")
  .description("give this device fresh keys in a group (post-compromise security)")
  .argument("<group>", "the group's name or id")
  .action(
    run(async ({ client, out }, name) => {
      await client.rekeyGroup(name!);
      print(out, tr("cli.rekeyed", { name: t(name!) }), { rekeyed: name });
    }),
  );

addGroupLinkCommands(group, run);

const profileCommand = program.command("profile").description("what your contacts see of you");
profileCommand
  .command("photo")
  .description(
    "set your profile photo (JPEG, PNG or WebP, at most 48 KiB; its metadata is removed) and send it to your contacts",
  )
  .argument("[path]", "the image file")
  .option("--remove", "remove your photo instead")
  .action(
    run(async ({ client, out, opts }, path) => {
      if (opts.remove || path === undefined) {
        if (!opts.remove) throw new Error(tr("cli.photo.which"));
        const { events } = await client.setProfilePhoto(null);
        print(out, tr("cli.photo.removed"), { photo: null, events: events.map(eventJson) });
        return;
      }
      const { profile, events } = await client.setProfilePhoto(new Uint8Array(await readFile(path)));
      const size = profile.photo ? Math.floor((profile.photo.data.length * 3) / 4) : 0;
      for (const line of events.flatMap((e) => formatEvent(e) ?? []))
        if (!out.json) process.stderr.write(`${line}\n`);
      print(out, tr("cli.photo.set", { size: megabytes(size) }), {
        photo: { mime: profile.photo?.mime, bytes: size },
        events: events.map(eventJson),
      });
    }),
  );

program
  .command("listen")
  .description("stay connected and print messages as they arrive (Ctrl-C to stop)")
  .action(
    run(async ({ client, out }) => {
      await client.profile();
      const stop = new AbortController();
      process.once("SIGINT", () => stop.abort());
      process.once("SIGTERM", () => stop.abort());
      if (!out.json) process.stderr.write(`${tr("cli.listening")}\n`);
      await client.sync().then((events) => events.forEach(emit));
      await client.listen(emit, stop.signal);

      function emit(e: ClientEvent) {
        if (out.json) {
          if (e.type === "message") process.stdout.write(`${jsonText(messageJson(e.message))}\n`);
          else process.stderr.write(`${jsonText(eventJson(e))}\n`);
          return;
        }
        const line = formatEvent(e);
        if (line) process.stdout.write(`${line}\n`);
        else if (e.type === "status" && e.detail) process.stderr.write(`(${e.status}: ${t(e.detail)})\n`);
      }
    }),
  );
