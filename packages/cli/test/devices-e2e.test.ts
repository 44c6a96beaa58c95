/**
 * Linking and revoking a device (issue 13) through real CLI processes and a real relay: `parley
 * device link` on Alice's device and `parley init --link` on a new one, confirmed by typing the
 * short code the new device shows; both devices receive what contacts send, in a chat and in a
 * group where Alice is not admin; what one sends shows on the other; contacts are told; then
 * `parley device revoke`: the revoked device reads nothing new and what it sends is rejected.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { spawnCli } from "@parley/testkit";
import {
  type RelayProcess,
  parley as run,
  parleyJson as runJson,
  startRelayProcess,
  tempDir,
} from "./helpers.js";

// Each command's time on stderr: on a loaded machine this file is slow, and this says where.
const started = Date.now();
const trace = (args: string[]) =>
  process.stderr.write(
    `[${((Date.now() - started) / 1000).toFixed(1)}s] parley ${args.join(" ").slice(0, 60)}\n`,
  );
const parley: typeof run = (home, ...args) => {
  trace(args);
  return run(home, ...args);
};
const parleyJson: typeof runJson = (home, ...args) => {
  trace(args);
  return runJson(home, ...args);
};

let relay: RelayProcess;
const alice = tempDir("devices-alice");
const laptop = tempDir("devices-alice-laptop");
const bob = tempDir("devices-bob");
const carol = tempDir("devices-carol");

type Message = { text: string; from: string; fromMe: boolean };
type Event = { type: string; reason?: string; added?: number; removed?: number };

async function connect(a: string, b: string) {
  const { link } = await parleyJson<{ link: string }>(a, "invite");
  await parleyJson(b, "accept", link);
  await parleyJson(a, "sync");
  await parleyJson(b, "sync");
}

/** `sync --json`: the messages (stdout) and the other events (stderr, one JSON object a line). */
async function syncEvents(home: string) {
  const r = await parley(home, "--json", "sync");
  assert.equal(r.code, 0, r.stderr);
  const events = r.stderr
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Event);
  return { messages: JSON.parse(r.stdout) as Message[], events };
}

const lastJson = <T>(text: string): T => JSON.parse(text.trim().split("\n").at(-1)!) as T;

before(async () => {
  relay = await startRelayProcess(tempDir("devices-relay"));
  for (const [home, name] of [
    [alice, "Alice"],
    [bob, "Bob"],
    [carol, "Carol"],
  ] as const)
    await parleyJson(home, "init", "--name", name, "--server", relay.url);
  await connect(alice, bob);
  await connect(bob, carol);
  // Bob's group: Alice is a member, not an admin.
  await parleyJson(bob, "group", "create", "Team");
  await parleyJson(bob, "group", "add", "Team", "Alice", "Carol");
  for (const home of [alice, bob, carol]) await parleyJson(home, "sync");
});
after(async () => {
  await relay?.stop();
});

test("link a second device, use both, revoke it", async () => {
  const existing = spawnCli(alice, ["--json", "device", "link", "--timeout", "60"], {
    stdin: "pipe",
    deadlineMs: 180_000,
  });
  try {
    const [, link] = await existing.waitForOutput(/"link":"([^"]+)"/, 30_000, "the link");
    const joining = spawnCli(
      laptop,
      ["--json", "init", "--link", link!, "--device", "laptop", "--timeout", "60"],
      {
        deadlineMs: 180_000,
      },
    );
    try {
      const [, shownNew] = await joining.waitForOutput(/"code":"(\d{6})"/, 30_000, "the new device's code");
      const [, shownOld] = await existing.waitForOutput(
        /"code":"(\d{6})"/,
        30_000,
        "the existing device's code",
      );
      assert.equal(shownOld, shownNew, "both devices show the same code");
      // The person types on the existing device the code the new one shows.
      existing.child.stdin!.write(`${shownNew}\n`);
      assert.equal((await existing.closed(120_000)).code, 0, existing.stderr());
      assert.equal((await joining.closed(120_000)).code, 0, joining.stderr());
      const linked = lastJson<{ linked: string[]; skipped: unknown[] }>(existing.stdout());
      assert.equal(linked.linked.length, 2);
      assert.deepEqual(linked.skipped, []);
      const joined = lastJson<{ name: string; joined: string[] }>(joining.stdout());
      assert.equal(joined.name, "Alice");
      assert.equal(joined.joined.length, 2);
    } finally {
      await joining.stop();
    }
  } finally {
    await existing.stop();
  }

  // Contacts are told that Alice added a device (in the chat and in the group).
  const bobSaw = await syncEvents(bob);
  assert.equal(bobSaw.events.filter((e) => e.type === "devices" && e.added === 1).length, 2);
  const human = await parley(carol, "sync");
  assert.match(human.stdout, /Alice \(not a contact\) linked a new device/);

  // Both devices receive.
  await parleyJson(bob, "send", "Alice", "hello both");
  await parleyJson(carol, "send", "Team", "team hello");
  for (const home of [alice, laptop]) {
    const got = (await syncEvents(home)).messages.map((m) => m.text).sort();
    assert.deepEqual(got, ["hello both", "team hello"], home);
  }
  await parleyJson(bob, "sync");

  // What one sends shows on the other, as ours; the contact sees it from Alice.
  await parleyJson(laptop, "send", "Bob", "from the laptop");
  const atBob = (await syncEvents(bob)).messages;
  assert.deepEqual(
    atBob.map((m) => [m.text, m.from]),
    [["from the laptop", "Alice"]],
  );
  const onPhone = (await syncEvents(alice)).messages;
  assert.deepEqual(
    onPhone.map((m) => [m.text, m.fromMe]),
    [["from the laptop", true]],
  );
  await parleyJson(alice, "send", "Team", "from the phone");
  assert.deepEqual(
    (await syncEvents(laptop)).messages.map((m) => [m.text, m.fromMe]),
    [["from the phone", true]],
  );
  await parleyJson(carol, "sync");
  await parleyJson(bob, "sync");

  // Bob adds Alice to a group made after the link: one commit adds a KeyPackage of each of her
  // devices (the laptop gave Bob its own when it was linked), and both of them read the group.
  await parleyJson(bob, "group", "create", "Later");
  const members = await parleyJson<{ name: string; devices: number }[]>(
    bob,
    "group",
    "add",
    "Later",
    "Alice",
  );
  assert.equal(members.find((m) => m.name === "Alice")?.devices, 2);
  await parleyJson(bob, "send", "Later", "later hello");
  for (const home of [alice, laptop]) {
    const got = await syncEvents(home);
    assert.deepEqual(
      got.messages.map((m) => m.text),
      ["later hello"],
      home,
    );
    assert.ok(!got.events.some((e) => e.type === "rejected"), home);
  }
  await parleyJson(laptop, "send", "Later", "later from the laptop");
  assert.deepEqual(
    (await syncEvents(bob)).messages.map((m) => [m.text, m.from]),
    [["later from the laptop", "Alice"]],
  );
  assert.deepEqual(
    (await syncEvents(alice)).messages.map((m) => [m.text, m.fromMe]),
    [["later from the laptop", true]],
  );

  const devices = await parleyJson<{ name: string; current: boolean; revoked: string | null }[]>(
    alice,
    "devices",
  );
  assert.deepEqual(devices.map((d) => [d.name, d.current]).sort(), [
    ["", true],
    ["laptop", false],
  ]);
  // "Last active", from what the laptop itself sealed in our devices' own group.
  assert.match((await parley(alice, "devices")).stdout, /laptop — added .*, last active /);

  // Revoked: removed everywhere; contacts are told.
  const revoked = await parleyJson<{ revoked: string[]; pending: string[] }>(
    alice,
    "device",
    "revoke",
    "laptop",
  );
  assert.equal(revoked.revoked.length, 3);
  assert.deepEqual(revoked.pending, []);
  const bobAfter = await syncEvents(bob);
  assert.ok(bobAfter.events.some((e) => e.type === "devices" && e.removed === 1));
  await parleyJson(carol, "sync");

  await parleyJson(bob, "send", "Alice", "after the revocation");
  await parleyJson(carol, "send", "Team", "team after the revocation");
  assert.deepEqual((await syncEvents(alice)).messages.map((m) => m.text).sort(), [
    "after the revocation",
    "team after the revocation",
  ]);
  await parleyJson(bob, "sync");
  const laptopReads = await parley(laptop, "--json", "sync");
  assert.ok(!laptopReads.stdout.includes("after the revocation"), "the revoked device decrypts nothing new");
  // It is told, once, that it was revoked (our devices' own group took it out), not "removed from devices".
  assert.match(laptopReads.stderr, /"change":"revoked"/);

  // What the revoked device sends is rejected by the contact and by the group, with a reason.
  await parley(laptop, "--json", "send", "Bob", "sent by the revoked laptop");
  await parley(laptop, "--json", "send", "Team", "revoked laptop in the group");
  const bobLast = await syncEvents(bob);
  assert.deepEqual(bobLast.messages, []);
  assert.ok(bobLast.events.some((e) => e.type === "rejected" && e.reason === "revoked_device"));
  const carolLast = await syncEvents(carol);
  assert.deepEqual(carolLast.messages, []);
  const history = await parleyJson<Message[]>(bob, "messages", "Alice");
  assert.ok(!history.some((m) => m.text.includes("revoked laptop")));
  const listed = await parleyJson<{ name: string; revoked: string | null }[]>(alice, "devices");
  assert.ok(listed.find((d) => d.name === "laptop")?.revoked);
});

test("device link --with-history: the new device shows the old messages", async () => {
  const desk = tempDir("devices-alice-desk");
  await parleyJson(alice, "send", "Bob", "an old message for the desk");
  await parleyJson(alice, "sync");
  const existing = spawnCli(alice, ["--json", "device", "link", "--with-history", "--timeout", "60"], {
    stdin: "pipe",
    deadlineMs: 180_000,
  });
  try {
    const [, link] = await existing.waitForOutput(/"link":"([^"]+)"/, 30_000, "the link");
    const joining = spawnCli(desk, ["init", "--link", link!, "--device", "desk", "--timeout", "60"], {
      deadlineMs: 180_000,
    });
    try {
      const [, code] = await joining.waitForOutput(/Code: (\d{6})/, 30_000, "the new device's code");
      await existing.waitForOutput(/"code":"(\d{6})"/, 30_000, "the existing device's code");
      existing.child.stdin!.write(`${code}\n`);
      assert.equal((await existing.closed(120_000)).code, 0, existing.stderr());
      assert.equal((await joining.closed(120_000)).code, 0, joining.stderr());
      const linked = lastJson<{ history: { messages: number; posts: number } }>(existing.stdout());
      assert.ok(linked.history.messages > 0, existing.stdout());
      assert.match(joining.stdout(), new RegExp(`${linked.history.messages} messages of history received`));
    } finally {
      await joining.stop();
    }
  } finally {
    await existing.stop();
  }
  const old = await parleyJson<Message[]>(alice, "messages", "Bob");
  const shown = await parleyJson<Message[]>(desk, "messages", "Bob");
  assert.ok(shown.some((m) => m.text === "an old message for the desk" && m.fromMe));
  assert.deepEqual(
    shown.map((m) => [m.text, m.fromMe]),
    old.map((m) => [m.text, m.fromMe]),
  );
  const human = await parley(desk, "messages", "Bob");
  assert.match(human.stdout, /an old message for the desk/);
});
