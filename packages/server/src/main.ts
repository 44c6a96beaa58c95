#!/usr/bin/env node
/**
 * parley-server: runs the relay, or shows what it stores. Logs (JSON, pino) go to stderr; stdout
 * carries only the ready line and command output, so scripts can read it.
 */
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { Id, PublicKey } from "@parley/protocol";
import { Command, InvalidArgumentError, type Option } from "commander";
import { pino } from "pino";
import { BackendError, DATABASE_FILE, LOCAL_BUS_URL, openStore, sqliteStoreUrl } from "./backends.js";
import { blobJson, discloseAll, disclosureJson, formatBlobs, formatDisclosure } from "./cli/disclose.js";
import { DEFAULT_CONFIG, daysToMs, MAX_POW_BITS } from "./config.js";
import { defaultWebAppDir } from "./http/static-app.js";
import { LogSink } from "./log-sink.js";
import { startRelay } from "./start.js";

function integer(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`must be a whole number from ${min} to ${max}`);
    }
    return n;
  };
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError("must be a positive number");
  return n;
}

/** Seconds (fractions allowed) as whole milliseconds, at least 1. */
function seconds(value: string): number {
  return Math.max(1, Math.round(positiveNumber(value) * 1000));
}

const UNITS: Record<string, number> = { "": 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 };

/** A size in bytes: `1073741824`, `512MiB`, `1GiB`, `2T` (binary units; `B`/`iB` optional). */
function parseSize(value: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?$/i.exec(value.trim());
  const n = m ? Math.round(Number(m[1]) * UNITS[m[2]!.toLowerCase()]!) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new InvalidArgumentError("must be a size in bytes, e.g. 1073741824, 512MiB or 1GiB");
  }
  return n;
}

/** `--min-free-disk`: a size (`1GiB`) or a share of the filesystem (`5%`). */
function freeDisk(value: string): { bytes: number; fraction: number } {
  const pct = /^(\d+(?:\.\d+)?)\s*%$/.exec(value.trim());
  if (pct) {
    const fraction = Number(pct[1]) / 100;
    if (!(fraction < 1)) throw new InvalidArgumentError("a percentage must be below 100%");
    return { bytes: 0, fraction };
  }
  return { bytes: parseSize(value), fraction: 0 };
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];
const secondsOf = (ms: number) => String(ms / 1000);

const program = new Command()
  .name("parley-server")
  .description(
    "The Parley relay: keeps opaque, padded ciphertext in queues until its recipient acknowledges it " +
      "or it expires. No accounts, no names, no contact graph, no IP addresses in logs.",
  )
  .showHelpAfterError()
  .addHelpText(
    "after",
    "\nWith no command, runs the relay: `parley-server --port 8787 --data ./data`.\n" +
      "See `parley-server serve --help` for its options and `parley-server disclose --help`.",
  );

program
  .command("serve", { isDefault: true })
  .description("run the relay (the default command)")
  .option("--port <port>", "TCP port, 0 for any free one", integer(0, 65535), 8787)
  .option("--host <host>", "address to listen on", "127.0.0.1")
  .option("--data <dir>", `directory for the database (${DATABASE_FILE}), created if missing`, "./data")
  .option(
    "--store <url>",
    "where the relay keeps its data, by URL: sqlite:<dir> (default: sqlite:<--data>), or postgres://user@host/db for several nodes",
  )
  .option(
    "--bus <url>",
    "how relay instances wake each other's subscribers: local: (one process), or nats://host:4222 for several nodes",
    LOCAL_BUS_URL,
  )
  .option(
    "--config <file>",
    'a JSON file of options, by long name ({"port": 8801, "store": "postgres://…"}); the command line and PARLEY_* variables win over it',
  )
  .option(
    "--ttl-days <days>",
    "delete unacknowledged messages and unused queues after this many days",
    positiveNumber,
    14,
  )
  .option(
    "--invite-ttl-days <days>",
    "delete unclaimed invites after this many days",
    positiveNumber,
    DEFAULT_CONFIG.inviteTtlMs / daysToMs(1),
  )
  .option(
    "--max-message-bytes <bytes>",
    "largest message accepted (bodies must also be a padding bucket size)",
    integer(512, DEFAULT_CONFIG.maxMessageBytes),
    DEFAULT_CONFIG.maxMessageBytes,
  )
  .option(
    "--static <dir>",
    "serve the files in this directory at / (default: packages/web/dist, when it has been built)",
  )
  .option(
    "--max-connections <n>",
    "most TCP connections (HTTP and WebSocket) open at once; more are refused",
    integer(1, 1_000_000),
    DEFAULT_CONFIG.maxConnections,
  )
  .option(
    "--headers-timeout <seconds>",
    `a client must send its request headers within this long (default: ${secondsOf(DEFAULT_CONFIG.headersTimeoutMs)})`,
    seconds,
  )
  .option(
    "--request-timeout <seconds>",
    `a client must send its whole request (body included) within this long (default: ${secondsOf(DEFAULT_CONFIG.requestTimeoutMs)})`,
    seconds,
  )
  .option(
    "--keep-alive-timeout <seconds>",
    `an idle keep-alive connection is closed after this long (default: ${secondsOf(DEFAULT_CONFIG.keepAliveTimeoutMs)})`,
    seconds,
  )
  .option(
    "--idle-timeout <seconds>",
    `a connection with no traffic at all is closed after this long (WebSockets are pinged instead) (default: ${secondsOf(DEFAULT_CONFIG.idleTimeoutMs)})`,
    seconds,
  )
  .option(
    "--shutdown-grace <seconds>",
    `on SIGTERM/SIGINT, connections still busy after this long are cut (default: ${secondsOf(DEFAULT_CONFIG.shutdownGraceMs)})`,
    seconds,
  )
  .option(
    "--reply-budget-bytes <bytes>",
    "message bytes of fetch replies and WebSocket pushes in flight at once, all clients together",
    integer(512, Number.MAX_SAFE_INTEGER),
    DEFAULT_CONFIG.replyBudgetBytes,
  )
  .option(
    "--allow-origin <origin>",
    "a web origin (https://app.example) whose pages may open WebSockets here; repeatable",
    collect,
    [],
  )
  .option(
    "--public-origin <origin>",
    "an origin browsers reach this relay at (https://relay.example), for the web app's CSP; repeatable",
    collect,
    [],
  )
  .option(
    "--max-queue-messages <n>",
    "most messages one queue holds at once; more are refused (507 queue_full)",
    integer(1, Number.MAX_SAFE_INTEGER),
    DEFAULT_CONFIG.maxQueueMessages,
  )
  .option(
    "--max-queue-bytes <size>",
    "most message bytes one queue holds at once, e.g. 256MiB; more are refused (507 queue_full)",
    parseSize,
    DEFAULT_CONFIG.maxQueueBytes,
  )
  .option(
    "--max-group-queue-messages <n>",
    "the same for a group's (broadcast) queue, which keeps every message until the TTL",
    integer(1, Number.MAX_SAFE_INTEGER),
    DEFAULT_CONFIG.maxGroupQueueMessages,
  )
  .option(
    "--max-group-queue-bytes <size>",
    "the same for a group's (broadcast) queue, e.g. 8GiB",
    parseSize,
    DEFAULT_CONFIG.maxGroupQueueBytes,
  )
  .option(
    "--min-free-disk <size-or-percent>",
    "refuse new data (507 storage_full) while the data directory's disk has less free space, e.g. 1GiB or 5% (default: 1GiB)",
    freeDisk,
  )
  .option(
    "--max-db-bytes <size>",
    "refuse new data (507 storage_full) while the database holds more than this, e.g. 50GiB (default: no limit)",
    parseSize,
  )
  .option(
    "--max-file-mb <mb>",
    "largest file (attachment) accepted, in MiB; 0 takes no files",
    integer(0, 1024 * 1024),
    DEFAULT_CONFIG.maxFileBytes / 2 ** 20,
  )
  .option(
    "--blobs <url>",
    "where file attachments' encrypted bytes go: file:<dir> (default: <data>/relay-blobs), memory:",
  )
  .option(
    "--pow-bits <bits>",
    "proof of work (leading zero bits of SHA-256) needed to create a queue or an invite; 0 for none",
    integer(0, MAX_POW_BITS),
    DEFAULT_CONFIG.powBits,
  )
  .option(
    "--ws-command-rate <n>",
    "WebSocket commands per second one connection may send on average; more get `busy`",
    positiveNumber,
    DEFAULT_CONFIG.wsCommandRate,
  )
  .option(
    "--ws-command-burst <n>",
    "WebSocket commands one connection may send in one burst",
    integer(1, 1_000_000),
    DEFAULT_CONFIG.wsCommandBurst,
  )
  .option("--log-level <level>", "fatal, error, warn, info, debug or silent", "info")
  .addHelpText(
    "after",
    "\nEvery option can also be set by an environment variable, PARLEY_ and its long name in capitals\n" +
      "(PARLEY_PORT=8801, PARLEY_STORE=postgres://…, PARLEY_MAX_QUEUE_BYTES=256MiB; repeatable ones\n" +
      "comma-separated), or in the --config file (PARLEY_CONFIG). The command line wins, then the\n" +
      "environment, then the file, then the defaults.",
  )
  .hook("preAction", (command) => applyEnvironmentAndFile(command))
  .action(async (opts, command: Command) => {
    // Logs never block the relay: lines are dropped (and counted) when stderr is not being read.
    const sink = new LogSink(process.stderr);
    process.stdout.on("error", () => {});
    const logger = pino({ level: opts.logLevel, base: null }, sink);
    const storeUrl = storeUrlOf(opts, command);
    if (opts.static !== undefined && !existsSync(opts.static)) {
      throw new InvalidArgumentError(`--static: no such directory: ${opts.static}`);
    }
    const relay = await startRelay({
      port: opts.port,
      host: opts.host,
      storeUrl,
      busUrl: opts.bus,
      ...(opts.blobs ? { blobsUrl: opts.blobs } : {}),
      logger,
      config: {
        ttlMs: daysToMs(opts.ttlDays),
        inviteTtlMs: daysToMs(opts.inviteTtlDays),
        maxMessageBytes: opts.maxMessageBytes,
        staticDir: opts.static ?? defaultWebAppDir(),
        maxConnections: opts.maxConnections,
        headersTimeoutMs: opts.headersTimeout,
        requestTimeoutMs: opts.requestTimeout,
        keepAliveTimeoutMs: opts.keepAliveTimeout,
        idleTimeoutMs: opts.idleTimeout,
        shutdownGraceMs: opts.shutdownGrace,
        replyBudgetBytes: opts.replyBudgetBytes,
        allowedOrigins: opts.allowOrigin,
        publicOrigins: opts.publicOrigin,
        maxQueueMessages: opts.maxQueueMessages,
        maxQueueBytes: opts.maxQueueBytes,
        maxGroupQueueMessages: opts.maxGroupQueueMessages,
        maxGroupQueueBytes: opts.maxGroupQueueBytes,
        ...(opts.minFreeDisk
          ? { minFreeDiskBytes: opts.minFreeDisk.bytes, minFreeDiskFraction: opts.minFreeDisk.fraction }
          : {}),
        maxDbBytes: opts.maxDbBytes,
        powBits: opts.powBits,
        maxFileBytes: opts.maxFileMb * 2 ** 20,
        wsCommandRate: opts.wsCommandRate,
        wsCommandBurst: opts.wsCommandBurst,
      },
    });
    process.stdout.write(`Parley relay listening on ${relay.url} (data: ${relay.location})\n`);

    let stopping = false;
    const exit = async (code: number) => {
      if (sink.dropped > 0) logger.warn({ dropped: sink.dropped }, "log lines dropped in all");
      await sink.flush(1000);
      process.exit(code);
    };
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, "shutting down");
      // relay.close() cuts busy connections after the grace period; this is the last resort.
      setTimeout(
        () => {
          logger.error("shutdown did not finish in time; exiting anyway");
          void exit(1);
        },
        (opts.shutdownGrace ?? DEFAULT_CONFIG.shutdownGraceMs) + 5000,
      ).unref();
      relay.close().then(
        () => exit(0),
        (e) => {
          logger.error(
            { err: { type: (e as Error).name, message: (e as Error).message } },
            "shutdown failed",
          );
          return exit(1);
        },
      );
    };
    process.once("SIGINT", () => stop("SIGINT"));
    process.once("SIGTERM", () => stop("SIGTERM"));
  });

program
  .command("disclose")
  .description(
    "print everything the relay holds about a queue id, send id, invite id, blob id or recipient key, " +
      "or (--all-blobs) every blob it holds (to show how little it is); reads the database without changing it",
  )
  .argument("[id-or-key]", "a 22-character id or a 43-character recipient key (base64url)")
  .option("--all-blobs", "list every blob (file attachment) the relay holds: ids, sizes, state, expiry")
  .option("--data <dir>", "the relay's data directory", "./data")
  .option("--store <url>", "the relay's store, by URL: sqlite:<dir> (default: sqlite:<--data>)")
  .option("--json", "print JSON, including the (encrypted) message bodies as base64url")
  .action(
    async (
      idOrKey: string | undefined,
      opts: { data: string; store?: string; json?: boolean; allBlobs?: boolean },
      command: Command,
    ) => {
      if (opts.allBlobs) {
        if (idOrKey !== undefined) throw new InvalidArgumentError("--all-blobs lists every blob: give no id");
        const { store } = await openStore(storeUrlOf(opts, command), { readonly: true });
        try {
          const blobs = await store.blobs.list(100_000);
          process.stdout.write(
            opts.json ? `${JSON.stringify({ blobs: blobs.map(blobJson) }, null, 2)}\n` : formatBlobs(blobs),
          );
        } finally {
          await store.close();
        }
        return;
      }
      if (
        idOrKey === undefined ||
        (!Id.safeParse(idOrKey).success && !PublicKey.safeParse(idOrKey).success)
      ) {
        throw new InvalidArgumentError(
          "not a queue id, send id, invite id, blob id (22 base64url characters) or recipient key (43)",
        );
      }
      const { store } = await openStore(storeUrlOf(opts, command), { readonly: true });
      try {
        const disclosure = await discloseAll(store, idOrKey);
        process.stdout.write(
          opts.json
            ? `${JSON.stringify(disclosureJson(idOrKey, disclosure), null, 2)}\n`
            : formatDisclosure(idOrKey, disclosure),
        );
      } finally {
        await store.close();
      }
    },
  );

/** `PARLEY_MAX_QUEUE_BYTES` for `--max-queue-bytes`. */
const envNameOf = (option: Option): string =>
  `PARLEY_${(option.long ?? "").slice(2).replaceAll("-", "_").toUpperCase()}`;

/**
 * Options not given on the command line, from PARLEY_* environment variables, else from the JSON
 * file of `--config` (or PARLEY_CONFIG). Values go through each option's own parser, so a bad one
 * is refused the same way, naming where it came from.
 */
function applyEnvironmentAndFile(command: Command): void {
  const path =
    command.getOptionValueSource("config") === "cli" ? command.opts().config : process.env.PARLEY_CONFIG;
  let file: Record<string, unknown> = {};
  if (path !== undefined) {
    try {
      file = JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
    } catch (e) {
      throw new InvalidArgumentError(`--config ${path}: ${(e as Error).message}`);
    }
    if (typeof file !== "object" || file === null || Array.isArray(file)) {
      throw new InvalidArgumentError(`--config ${path}: not a JSON object of options`);
    }
    const known = new Set(command.options.flatMap((o) => [o.long?.slice(2), o.attributeName()]));
    const unknown = Object.keys(file).filter((k) => !known.has(k));
    if (unknown.length > 0)
      throw new InvalidArgumentError(`--config ${path}: unknown options: ${unknown.join(", ")}`);
  }
  for (const option of command.options) {
    const key = option.attributeName();
    if (key === "config" || command.getOptionValueSource(key) === "cli") continue;
    const envName = envNameOf(option);
    const fromEnv = process.env[envName];
    const raw = fromEnv ?? file[option.long?.slice(2) ?? ""] ?? file[key];
    if (raw === undefined) continue;
    const where = fromEnv !== undefined ? envName : `${path}: ${option.long?.slice(2)}`;
    const repeatable = Array.isArray(option.defaultValue);
    const values =
      fromEnv !== undefined
        ? repeatable
          ? fromEnv.split(",").filter(Boolean)
          : [fromEnv]
        : Array.isArray(raw)
          ? raw.map(String)
          : [String(raw)];
    let value: unknown = repeatable ? [] : undefined;
    try {
      for (const v of values) value = option.parseArg ? option.parseArg(v, value) : v;
    } catch (e) {
      throw new InvalidArgumentError(`${where}: ${(e as Error).message}`);
    }
    command.setOptionValueWithSource(key, value, fromEnv !== undefined ? "env" : "config");
  }
}

/** `--store`, or the SQLite store of `--data`; both given is a mistake. */
function storeUrlOf(opts: { data: string; store?: string }, command: Command): string {
  if (opts.store === undefined) return sqliteStoreUrl(resolve(opts.data));
  if (command.getOptionValueSource("data") === "cli") {
    // --data on the command line wins over a store from the environment or the config file.
    if (command.getOptionValueSource("store") !== "cli") return sqliteStoreUrl(resolve(opts.data));
    throw new InvalidArgumentError("give --store or --data, not both");
  }
  return opts.store;
}

/**
 * Ids and keys are base64url, so one in 32 starts with "-" and would be read as an option. An
 * argument of exactly an id's or a key's length and alphabet is always an argument.
 */
function protectIdArguments(argv: string[]): string[] {
  const looksLikeId = (a: string) => /^-[A-Za-z0-9_-]+$/.test(a) && (a.length === 22 || a.length === 43);
  const i = argv.findIndex(looksLikeId);
  if (i < 0 || argv.includes("--")) return argv;
  // Moved to the end, behind "--", so options after it (--data, --json) are still options.
  return [...argv.slice(0, i), ...argv.slice(i + 1), "--", argv[i]!];
}

program.parseAsync(protectIdArguments(process.argv)).catch((e: unknown) => {
  process.stderr.write(`parley-server: ${(e as Error).message}\n`);
  // A store or bus URL the relay cannot use is a bad argument, like any other.
  process.exit(e instanceof InvalidArgumentError || e instanceof BackendError ? 2 : 1);
});
