/**
 * The profile's passphrase (issue 13): `parley passphrase set|change|remove` and `parley wipe`, and
 * how every other command gets the passphrase of a sealed profile — PARLEY_PASSPHRASE, else a
 * prompt on a terminal (nothing echoed), else it fails ("locked") rather than wait for input that
 * cannot come. A new passphrase comes from PARLEY_NEW_PASSPHRASE, else a prompt, typed twice.
 */
import { createInterface } from "node:readline";
import {
  changePassphrase,
  FileLock,
  isEncrypted,
  openStore,
  removePassphrase,
  resolveHome,
  setPassphrase,
  wipeProfile,
} from "@parley/node";
import type { Command } from "commander";
import { languageFor, tr, useLanguage } from "./i18n.js";
import { type Output, print } from "./output.js";
import { jsonText, terminalText as t } from "./terminal-text.js";
import { errorCode, errorText, WordedStoreError } from "./words.js";

/** One line typed on the terminal, not echoed. */
function promptHidden(question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  const echo = rl as unknown as { _writeToOutput: (s: string) => void };
  echo._writeToOutput = (s: string) => {
    if (s.startsWith(question)) process.stderr.write(question);
  };
  return new Promise((resolve) => {
    rl.question(question, (answer) => {
      process.stderr.write("\n");
      rl.close();
      resolve(answer);
    });
  });
}

/** The profile's passphrase: PARLEY_PASSPHRASE, else a prompt on a terminal, else "locked". */
export async function currentPassphrase(): Promise<string> {
  const fromEnv = process.env.PARLEY_PASSPHRASE;
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  if (!process.stdin.isTTY) {
    throw new WordedStoreError("locked", tr("cli.passphrase.locked"));
  }
  return promptHidden(tr("cli.passphrase.prompt"));
}

async function newPassphrase(): Promise<string> {
  const fromEnv = process.env.PARLEY_NEW_PASSPHRASE;
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  if (!process.stdin.isTTY) throw new WordedStoreError("locked", tr("cli.passphrase.lockedNew"));
  const first = await promptHidden(tr("cli.passphrase.promptNew"));
  const again = await promptHidden(tr("cli.passphrase.promptAgain"));
  if (first !== again) throw new WordedStoreError("wrong_passphrase", tr("cli.passphrase.differ"));
  return first;
}

type Work = (home: string, out: Output) => Promise<void>;

/** Like main's `run`, for commands that work on the store itself rather than through a client. */
function onStore(work: Work) {
  return async (...args: unknown[]) => {
    const cmd = args[args.length - 1] as Command;
    const globals = cmd.optsWithGlobals() as { home?: string; json: boolean };
    const out: Output = { json: globals.json };
    try {
      const home = resolveHome(globals.home);
      // Human output in the person's language; --json in English (its codes are the contract).
      useLanguage(languageFor(home, out.json));
      await work(home, out);
    } catch (e) {
      if (out.json) process.stdout.write(`${jsonText({ error: errorText(e), code: errorCode(e) })}\n`);
      else process.stderr.write(`${tr("cli.error", { text: t(errorText(e)) })}\n`);
      process.exitCode = 1;
    }
  };
}

/** Runs `fn` on the profile's store, under the profile lock (no other parley process writes meanwhile). */
async function withStore(home: string, fn: (store: ReturnType<typeof openStore>) => Promise<void>) {
  const store = openStore(home);
  try {
    await new FileLock(`${home}/parley.lock`).run(() => fn(store));
  } finally {
    await store.close();
  }
}

export function addPassphraseCommands(program: Command): void {
  const passphrase = program
    .command("passphrase")
    .description("protect this profile on disk with a passphrase (Argon2id), change it, or remove it");

  passphrase
    .command("set")
    .description("encrypt the profile under a new passphrase (PARLEY_NEW_PASSPHRASE, or typed twice)")
    .action(
      onStore(async (home, out) => {
        await withStore(home, async (store) => {
          if (await isEncrypted(store)) throw new WordedStoreError("exists", tr("cli.passphrase.hasOne"));
          await setPassphrase(store, await newPassphrase());
        });
        print(out, tr("cli.passphrase.set"), { encrypted: true });
      }),
    );

  passphrase
    .command("change")
    .description("a new passphrase (the current one from PARLEY_PASSPHRASE or typed)")
    .action(
      onStore(async (home, out) => {
        await withStore(home, async (store) => {
          if (!(await isEncrypted(store)))
            throw new WordedStoreError("not_initialized", tr("cli.passphrase.hasNone"));
          await changePassphrase(store, await currentPassphrase(), await newPassphrase());
        });
        print(out, tr("cli.passphrase.changed"), { encrypted: true });
      }),
    );

  passphrase
    .command("remove")
    .description("store the profile unencrypted again (protected by file permissions only)")
    .action(
      onStore(async (home, out) => {
        await withStore(home, async (store) => {
          if (!(await isEncrypted(store)))
            throw new WordedStoreError("not_initialized", tr("cli.passphrase.hasNoneShort"));
          await removePassphrase(store, await currentPassphrase());
        });
        print(out, tr("cli.passphrase.removed"), { encrypted: false });
      }),
    );

  program
    .command("wipe")
    .description(
      "destroy this profile: keys and history overwritten, then deleted (stop parley listen first)",
    )
    .option("--yes", "really wipe (without it, nothing happens)")
    .action(
      onStore(async (home, out) => {
        const opts = program.commands.find((c) => c.name() === "wipe")!.opts() as { yes?: boolean };
        if (opts.yes !== true) {
          const why = tr("cli.wipe.confirm");
          if (out.json) process.stdout.write(`${jsonText({ error: why, code: "confirm" })}\n`);
          else process.stderr.write(`${why}\n`);
          process.exitCode = 1;
          return;
        }
        const wiped = await wipeProfile(home);
        print(out, tr("cli.wipe.done", { values: wiped.values, files: wiped.files.length }), wiped);
      }),
    );
}
