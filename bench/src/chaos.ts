/**
 * `npm run bench -- chaos`: the group soak test (packages/core/test/group-soak.test.ts) at bench size —
 * 500 members, 5 admins, 5 minutes of random concurrent changes and sends, the relay process SIGKILLed
 * and restarted once — and its figures: commits per minute handled, the median and p99 time from a
 * commit that lost its epoch to its change being in effect, messages lost and duplicated (both must
 * be 0). PARLEY_CHAOS_MEMBERS and PARLEY_CHAOS_MS change the size. The harness lives with the soak
 * test (core's compiled test helpers), so that the two can never drift apart.
 */
import { commit, median, percentile, round, writeResults } from "./report.js";

interface Figures {
  operations: Record<string, number>;
  failed: Record<string, number>;
  setupSeconds: number;
  conflictsResolved: number;
  messages: number;
  unsealedBySenderGone: number;
  epochs: string;
  convergence: number[];
  lost: number;
  duplicated: number;
}
type RunChaos = (
  o: Record<string, number>,
  cleanup: { after: (fn: () => Promise<void> | void) => void },
  log: (line: string) => void,
) => Promise<{ figures: Figures; problems: string[] }>;

const harness = new URL("../../../packages/core/dist/test/helpers/chaos.js", import.meta.url).href;
const { runChaos } = (await import(harness)) as { runChaos: RunChaos };

const members = Number(process.env.PARLEY_CHAOS_MEMBERS ?? 500);
const durationMs = Number(process.env.PARLEY_CHAOS_MS ?? 5 * 60_000);
// The commit measured is the one checked out at the start: the run takes an hour, and work may be
// committed meanwhile (writeResults would name the commit at its end).
const measured = commit();
const cleanups: (() => Promise<void> | void)[] = [];
const started = process.cpuUsage();
try {
  const { figures, problems } = await runChaos(
    // The relay lives as long as the run may (setup at 500 members alone takes over 10 minutes).
    { members, admins: 5, spares: 20, durationMs, actors: 6, seed: 500, relayLifeMs: 3 * 3_600_000 },
    { after: (fn) => void cleanups.push(fn) },
    (line) => console.log(line),
  );
  const commits = ["add", "remove", "rename", "admin", "rekey", "leave"].reduce(
    (n, k) => n + (figures.operations[k] ?? 0),
    0,
  );
  const cpu = process.cpuUsage(started);
  writeResults(
    "chaos",
    [
      {
        members,
        minutes: round(durationMs / 60_000),
        setupSeconds: figures.setupSeconds,
        commitsPerMinute: round(commits / (durationMs / 60_000)),
        conflictsResolved: figures.conflictsResolved,
        convergenceMedianMs: figures.convergence.length ? round(median(figures.convergence)) : null,
        convergenceP99Ms: figures.convergence.length ? round(percentile(figures.convergence, 99)) : null,
        messages: figures.messages,
        lost: figures.lost,
        duplicated: figures.duplicated,
        unsealedBySenderGone: figures.unsealedBySenderGone,
        epochs: figures.epochs,
      },
    ],
    {
      commit: measured,
      operations: figures.operations,
      failed: figures.failed,
      conflictsResolved: figures.conflictsResolved,
      problems,
      cpuSeconds: round((cpu.user + cpu.system) / 1e6),
    },
  );
  if (problems.length || figures.lost || figures.duplicated) process.exitCode = 1;
} finally {
  for (const fn of cleanups.reverse()) await fn();
}
