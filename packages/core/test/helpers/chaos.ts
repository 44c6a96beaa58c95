/**
 * The group chaos harness, shared by the soak test (CI, 50 members) and the chaos bench (500): a
 * group on a real relay process, in-process clients doing random concurrent changes and sends, some
 * going offline, the relay SIGKILLed and restarted once; then everyone comes back, and the end
 * state is checked.
 */
import { type RelayProcess, startRelayProcess, tempDir } from "@parley/testkit";
import { commitOrderStats } from "../../src/client/groups/own-echo.js";
import type { ParleyClient } from "../../src/client/parley-client.js";
import type { MemoryKeyValueStore } from "../../src/storage/memory-store.js";
import { type GroupView, groupDiagnostics, groupView } from "./group-view.js";
import { person } from "./people.js";

export interface ChaosOptions {
  members: number;
  admins: number;
  /** People outside the group at first, known to the admins: who gets added. */
  spares: number;
  durationMs: number;
  /** Operations running at once. */
  actors: number;
  /**
   * The relay process's whole life (testkit's default: 10 minutes). At bench size the setup alone
   * takes longer, and the relay killed at its deadline showed as "fetch failed" during setup.
   */
  relayLifeMs?: number;
  seed: number;
}

interface Someone {
  name: string;
  client: ParleyClient;
  store: MemoryKeyValueStore;
  identityKey: string;
  online: boolean;
  /** In the group, as far as the harness asked (an add or remove that returned). */
  inGroup: boolean;
  admin: boolean;
  /** Harness time of every removal or leave of this person that returned. */
  outAt: number[];
  /** Harness time this person's current membership began (the add returned), or 0 from the start. */
  inSince: number;
  /** An add of this person was tried (it may have won even when the command failed). */
  addTried: boolean;
  /** What the harness did to or with this person, with harness times: printed when the end check fails. */
  trace: string[];
}

interface Sent {
  id: string;
  text: string;
  sender: string;
  at: number;
}

export interface ChaosFigures {
  operations: Record<string, number>;
  /** Wall time from the relay's start to the group built. */
  setupSeconds: number;
  failed: Record<string, number>;
  conflictsResolved: number;
  messagesResealed: number;
  messages: number;
  /** Sent, stale, and its sender out of the group before it could seal it again. */
  unsealedBySenderGone: number;
  epochs: string;
  members: number;
  relayRestarts: number;
  /** ms from a commit that lost to its change applied everywhere (its command's settle). */
  convergence: number[];
  lost: number;
  duplicated: number;
}

/** `a` invites each of `others`; then both sides sync twice (intros, then KeyPackages). */
async function connectAll(a: Someone, others: Someone[]) {
  for (const p of others) await p.client.acceptInvite((await a.client.createInvite()).link);
  for (let round = 0; round < 2; round++) {
    await a.client.sync();
    for (const p of others) await p.client.sync();
  }
}

/** A small deterministic generator (mulberry32): the same seed, the same choices. */
function random(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const GROUP = "Chaos";

/** Each person's local id of the group (its name changes with every rename). */
const groupIds = new Map<ParleyClient, string>();
async function gid(client: ParleyClient): Promise<string> {
  let id = groupIds.get(client);
  if (!id) {
    id = (await client.conversations()).find((c) => c.kind === "group")?.id;
    if (!id) throw new Error("not in the group yet");
    groupIds.set(client, id);
  }
  return id;
}

export async function runChaos(
  o: ChaosOptions,
  cleanup: { after: (fn: () => Promise<void> | void) => void },
  log: (line: string) => void = () => {},
): Promise<{ figures: ChaosFigures; problems: string[] }> {
  const rnd = random(o.seed);
  // Setup phases with their wall time: at bench size the setup is most of the run.
  // CPU too: the machine is shared, and wall time says little about the work when others run.
  const setupStart = Date.now();
  const cpuStart = process.cpuUsage();
  const phase = (what: string) => {
    const cpu = process.cpuUsage(cpuStart);
    const wall = (Date.now() - setupStart) / 1000;
    log(`setup: ${what} (${wall.toFixed(1)} s, ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s CPU)`);
  };
  const pick = <T>(xs: T[]): T | undefined => (xs.length ? xs[Math.floor(rnd() * xs.length)] : undefined);
  const dataDir = tempDir("chaos-relay", cleanup);
  const lifeMs = o.relayLifeMs;
  let relay: RelayProcess = await startRelayProcess({ dataDir, cleanup, ...(lifeMs ? { lifeMs } : {}) });
  const port = relay.port;
  const url = relay.url;

  const people: Someone[] = [];
  for (let i = 0; i < o.members + o.spares; i++) {
    const p = await person(`P${i}`, url);
    const identityKey = (await p.client.profile()).identityPublicKey;
    people.push({
      name: `P${i}`,
      ...p,
      identityKey,
      online: true,
      inGroup: false,
      admin: false,
      outAt: [],
      inSince: -1,
      addTried: false,
      trace: [],
    });
  }
  phase(`${people.length} people created`);
  const admins = people.slice(0, o.admins);
  // The first admin knows everyone (it builds the group); the others know the spares (to add them).
  const spares = people.slice(o.members);
  await connectAll(admins[0]!, people.slice(1));
  for (const a of admins.slice(1)) await connectAll(a, spares);
  phase(`${people.length} people connected to ${admins.length} admins`);
  const [first] = admins;
  await first!.client.createGroup(GROUP);
  first!.inGroup = true;
  first!.admin = true;
  // The other admins first, promoted while the group is small: every member added later joins
  // with them already admins instead of processing those commits too.
  await first!.client.addToGroup(
    GROUP,
    admins.slice(1).map((p) => p.name),
  );
  for (const a of admins.slice(1)) {
    await first!.client.setGroupAdmin(GROUP, a.name, true);
    a.admin = true;
  }
  // Then the others, in ten commits whatever the size: each member processes every commit after
  // the one that added it, so the setup's work grows with members × commits (at 500 members, 50
  // commits of 10 were most of the setup).
  const initial = people.slice(o.admins, o.members);
  const perCommit = Math.max(10, Math.ceil(initial.length / 10));
  for (let i = 0; i < initial.length; i += perCommit) {
    await first!.client.addToGroup(
      GROUP,
      initial.slice(i, i + perCommit).map((p) => p.name),
    );
  }
  phase(`${o.members - 1} added`);
  for (const p of people.slice(1, o.members)) {
    p.inGroup = true;
    await p.client.sync();
  }
  phase(`group of ${o.members} with ${o.admins} admins`);
  const setupSeconds = Math.round((Date.now() - setupStart) / 1000);

  const ops: Record<string, number> = {};
  const failed: Record<string, number> = {};
  const sent: Sent[] = [];
  const convergence: number[] = [];
  for (const p of people) if (p.inGroup) await gid(p.client);
  log(`P0 group id ${await gid(people[0]!.client)}`);
  const t0 = Date.now();
  const now = () => Date.now() - t0;
  let restarts = 0;
  let counter = 0;
  const lostBefore = commitOrderStats.lost;
  const resealedBefore = commitOrderStats.resealed;

  let rejections = 0;
  const noteRejections = (p: Someone, events: Awaited<ReturnType<ParleyClient["sync"]>>) => {
    for (const e of events) {
      if (e.type === "rejected" && ++rejections <= 10) log(`${p.name} rejected: ${JSON.stringify(e)}`);
      if (e.type === "rejected" || e.type === "warning") p.trace.push(`${now()} ${JSON.stringify(e)}`);
      if (e.type === "group" && (e.change === "joined" || e.change === "removed"))
        p.trace.push(`${now()} sync: ${e.change}`);
    }
  };
  const online = () => people.filter((p) => p.online);
  const members = () => people.filter((p) => p.inGroup && p.online);
  const adminsOnline = () => members().filter((p) => p.admin);
  const count = (k: string, map = ops) => {
    map[k] = (map[k] ?? 0) + 1;
  };

  const note = (p: Someone, what: string) => p.trace.push(`${now()} ${what}`);
  async function timedChange(kind: string, work: () => Promise<unknown>, about: Someone[] = []) {
    const lost = commitOrderStats.lost;
    const started = Date.now();
    for (const p of about) note(p, `${kind} begins`);
    try {
      await work();
    } catch (e) {
      for (const p of about)
        note(p, `${kind} failed: ${(e as { code?: string }).code ?? (e as Error).message}`);
      throw e;
    }
    for (const p of about) note(p, `${kind} returned`);
    if (commitOrderStats.lost > lost) convergence.push(Date.now() - started);
    count(kind);
  }

  const actions: Record<string, () => Promise<void>> = {
    async send() {
      const s = pick(members());
      if (!s) return;
      const text = `m${++counter} from ${s.name}`;
      const at = now();
      const m = await s.client.send(await gid(s.client), text);
      sent.push({ id: m.id, text, sender: s.name, at });
      count("send");
    },
    async add() {
      const a = pick(adminsOnline());
      const p = pick(people.filter((x) => !x.inGroup && x.outAt.length === 0 && !admins.includes(x)));
      if (!a || !p) return;
      p.addTried = true;
      try {
        await timedChange("add", async () => a.client.addToGroup(await gid(a.client), [p.name]), [a, p]);
      } catch (e) {
        // The commit may still win later (its admin sends it again): from when is unknown, so no
        // message is required in this person's history unless a later add returns.
        if (!p.inGroup) p.inSince = Number.POSITIVE_INFINITY;
        throw e;
      }
      p.inGroup = true;
      p.inSince = now();
    },
    async remove() {
      const a = pick(adminsOnline());
      const p = pick(people.filter((x) => x.inGroup && !x.admin));
      if (!a || !p) return;
      await timedChange(
        "remove",
        async () => a.client.removeFromGroup(await gid(a.client), [p.identityKey]),
        [a, p],
      );
      p.inGroup = false;
      p.outAt.push(now());
    },
    async rename() {
      const a = pick(adminsOnline());
      if (!a) return;
      await timedChange("rename", async () =>
        a.client.renameGroup(await gid(a.client), `Chaos ${++counter}`),
      );
    },
    async admin() {
      const a = pick(adminsOnline());
      const p = pick(members().filter((x) => !x.admin));
      if (!a || !p) return;
      await timedChange("admin", async () => {
        const g = await gid(a.client);
        await a.client.setGroupAdmin(g, p.identityKey, true);
        await a.client.setGroupAdmin(g, p.identityKey, false);
      });
    },
    async leave() {
      const p = pick(members().filter((x) => !x.admin));
      if (!p) return;
      note(p, "leave begins");
      try {
        await p.client.leaveGroup(await gid(p.client));
      } catch (e) {
        note(p, `leave failed: ${(e as { code?: string }).code ?? (e as Error).message}`);
        throw e;
      }
      note(p, "leave returned");
      p.inGroup = false;
      p.outAt.push(now());
      count("leave");
    },
    async rekey() {
      const p = pick(members());
      if (!p) return;
      await timedChange("rekey", async () => p.client.rekeyGroup(await gid(p.client)));
    },
    async offline() {
      const p = pick(online().filter((x) => !x.admin));
      if (!p) return;
      p.online = false;
      note(p, "offline");
      count("offline");
      setTimeout(
        () => {
          p.online = true;
          note(p, "online");
        },
        2000 + rnd() * 5000,
      ).unref();
    },
    async sync() {
      const p = pick(online().filter((x) => x.inGroup));
      if (p) noteRejections(p, await p.client.sync());
      count("sync");
    },
  };
  const weights: [string, number][] = [
    ["send", 30],
    ["sync", 30],
    ["add", 6],
    ["remove", 5],
    ["rename", 3],
    ["admin", 2],
    ["leave", 2],
    ["rekey", 4],
    ["offline", 3],
  ];
  const total = weights.reduce((s, [, w]) => s + w, 0);
  const choose = () => {
    let r = rnd() * total;
    for (const [k, w] of weights) {
      r -= w;
      if (r < 0) return k;
    }
    return "sync";
  };
  const actor = async () => {
    while (now() < o.durationMs) {
      const kind = choose();
      try {
        await actions[kind]!();
      } catch (e) {
        const code = (e as { code?: string }).code ?? (e as Error).name;
        if (!failed[`${kind}:${code}`] && code !== "network") log(`${kind} failed: ${(e as Error).stack}`);
        count(`${kind}:${code}`, failed);
      }
    }
  };
  const restart = (async () => {
    await new Promise((r) => setTimeout(r, o.durationMs / 2));
    relay.kill();
    await relay.exited(10_000);
    await new Promise((r) => setTimeout(r, 500));
    relay = await startRelayProcess({ dataDir, port, cleanup, ...(lifeMs ? { lifeMs } : {}) });
    restarts++;
    log(`relay SIGKILLed and restarted at ${now()} ms`);
  })();
  await Promise.all([...Array.from({ length: o.actors }, actor), restart]);
  log(`chaos over after ${now()} ms`);

  // Everyone back; rounds of syncing until nothing moves.
  for (const p of people) p.online = true;
  // Rounds of syncing until neither the group nor anyone's history moves (a stale message takes
  // its sender's sync to be sealed again, and the others' next one to arrive).
  let views: (GroupView | undefined)[] = [];
  let last = "";
  for (let round = 0, quiet = 0; round < 20 && quiet < 2; round++) {
    // People never in the group have nothing to catch up on.
    for (const p of people.filter(
      (x) => x.inGroup || x.outAt.length || x.addTried || x.inSince >= 0 || groupIds.has(x.client),
    )) {
      noteRejections(p, await p.client.sync().catch(() => []));
    }
    views = await Promise.all(people.map((p) => groupView(p.store)));
    const counts = await Promise.all(
      people.map((p) =>
        gid(p.client)
          .then((g) => p.client.messages(g, 100_000))
          .then(
            (m) => m.length,
            () => 0,
          ),
      ),
    );
    const state = JSON.stringify([views, counts], (_, v) => (typeof v === "bigint" ? v.toString() : v));
    quiet = state === last ? quiet + 1 : 0;
    last = state;
  }
  const problems: string[] = [];
  const inside = people.filter((_, i) => views[i] !== undefined);
  const reference = views.find((v) => v !== undefined);
  if (!reference) problems.push("nobody is in the group");
  for (const [i, p] of people.entries()) {
    const v = views[i];
    if (!v || !reference) continue;
    if (v.epoch !== reference.epoch) problems.push(`${p.name}: epoch ${v.epoch} ≠ ${reference.epoch}`);
    if (v.authenticator !== reference.authenticator) problems.push(`${p.name}: other epoch secrets`);
    if (v.members.join() !== reference.members.join()) problems.push(`${p.name}: other member list`);
  }
  if (reference) {
    const listed = new Set(reference.members);
    for (const p of inside)
      if (!listed.has(p.identityKey)) problems.push(`${p.name} has state but is not a member`);
    if (listed.size !== inside.length)
      problems.push(`${listed.size} members listed, ${inside.length} hold the group`);
  }
  if (problems.length > 0) {
    // Enough to diagnose a failure from the CI output alone: everyone's end state, and for those
    // who disagree with the reference, what happened to them during the run.
    const listed = new Set(reference?.members ?? []);
    for (const [i, p] of people.entries()) {
      const v = views[i];
      const odd =
        listed.has(p.identityKey) !== (v !== undefined) ||
        (v !== undefined && reference !== undefined && v.authenticator !== reference.authenticator) ||
        p.inGroup !== (v !== undefined);
      log(
        `${odd ? "!" : " "} ${p.name}: listed ${listed.has(p.identityKey)}, harness ${p.inGroup ? "in" : "out"}` +
          `${p.admin ? " (admin)" : ""}, ${v ? `epoch ${v.epoch}` : "no view"}; ${await groupDiagnostics(p.store)}`,
      );
      if (odd) for (const line of p.trace) log(`    ${p.name} ${line}`);
    }
  }
  // Messages: the sender's own view says "sent" (the relay took it).
  const reported = new Map<string, Sent>();
  const histories = new Map<Someone, { id: string; text: string; fromMe: boolean; status: string }[]>();
  for (const p of people) {
    const h = (
      await gid(p.client)
        .then((g) => p.client.messages(g, 100_000))
        .catch(() => [])
    ).map((m) => ({
      id: m.id,
      text: m.text,
      fromMe: m.fromMe,
      status: m.status,
    }));
    histories.set(p, h);
  }
  // A message the queue put after a commit is sealed again by its sender when it reads its echo;
  // a sender removed (or gone) before that cannot (docs/protocol.md, "Commit order"): counted apart.
  let senderGone = 0;
  for (const s of sent) {
    const sender = people.find((p) => p.name === s.sender)!;
    const mine = histories.get(sender)!.find((m) => m.id === s.id);
    if (!mine || mine.status === "sending" || mine.status === "failed") continue;
    const senderStayed = views[people.indexOf(sender)] !== undefined;
    if (!senderStayed && !people.some((p) => p !== sender && histories.get(p)!.some((m) => m.id === s.id))) {
      senderGone++;
      continue;
    }
    reported.set(s.id, s);
  }
  let lost = 0;
  let duplicated = 0;
  const orderOf = new Map<string, string>();
  for (const p of people) {
    const h = histories.get(p)!;
    const ids = h.map((m) => m.id);
    const seen = new Set<string>();
    for (const id of ids) {
      if (seen.has(id)) duplicated++;
      seen.add(id);
    }
    // In the group when it was written (from the start, or added before), and to the end.
    const stayed = views[people.indexOf(p)] !== undefined && p.outAt.length === 0;
    for (const s of reported.values()) {
      if (stayed && p.inSince < s.at && !seen.has(s.id)) {
        if (++lost <= 5) log(`lost: "${s.text}" (at ${s.at} ms) not with ${p.name} (in since ${p.inSince})`);
      }
      // Out (removed, or left) before it was written: never read it.
      const out = p.outAt[0];
      if (out !== undefined && out < s.at && seen.has(s.id) && s.sender !== p.name) {
        problems.push(`${p.name} read "${s.text}", written after they were out`);
      }
    }
    const common = ids.filter((id) => reported.has(id)).join();
    orderOf.set(p.name, common);
  }
  // The same order for all: each history's reported messages are a subsequence of one order.
  const position = new Map<string, number>();
  const longest = [...orderOf.values()].sort((a, b) => b.length - a.length)[0]?.split(",") ?? [];
  for (const [i, id] of longest.entries()) position.set(id, i);
  for (const [name, seq] of orderOf) {
    const ps = seq ? seq.split(",").map((id) => position.get(id) ?? -1) : [];
    for (let i = 1; i < ps.length; i++) {
      if (ps[i]! >= 0 && ps[i - 1]! > ps[i]!) {
        problems.push(`${name}: messages in another order`);
        break;
      }
    }
  }
  if (lost) problems.push(`${lost} message copies lost`);
  if (duplicated) problems.push(`${duplicated} messages duplicated`);
  const figures: ChaosFigures = {
    operations: ops,
    setupSeconds,
    failed,
    conflictsResolved: commitOrderStats.lost - lostBefore,
    messagesResealed: commitOrderStats.resealed - resealedBefore,
    messages: reported.size,
    unsealedBySenderGone: senderGone,
    epochs: reference ? reference.epoch.toString() : "-",
    members: reference?.members.length ?? 0,
    relayRestarts: restarts,
    convergence,
    lost,
    duplicated,
  };
  await relay.stop();
  return { figures, problems };
}
