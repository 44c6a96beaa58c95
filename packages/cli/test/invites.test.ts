/**
 * Invite links as people actually handle them: a link with a mistyped key fails clearly and leaves
 * the invite usable; the sealed invite on the relay has the same size whatever the inviter's name.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { InviteError, parseInviteLink, RelayHttpClient } from "@parley/core";
import { type RunningRelay, startRelay } from "@parley/server";
import { crypto, newMemoryClient } from "./engine-helpers.js";
import { tempDir } from "./helpers.js";

let relay: RunningRelay;

const newClient = async (name: string) => {
  const client = newMemoryClient();
  await client.init(name, relay.url);
  return client;
};

before(async () => {
  relay = await startRelay({ port: 0, dataDir: tempDir("invites-relay") });
});
after(async () => {
  await relay?.close();
});

/** The link with one character of its key changed, as a person copying it by hand might. */
function mistype(link: string): string {
  const last = link.at(-2) === "A" ? "B" : "A";
  return `${link.slice(0, -2)}${last}${link.at(-1)}`;
}

test("a link with a mistyped key fails clearly and does not use the invite up", async () => {
  const alice = await newClient("Alice");
  const bob = await newClient("Bob");
  const { link } = await alice.createInvite();
  await assert.rejects(bob.acceptInvite(mistype(link)), (e: unknown) => {
    assert.ok(e instanceof InviteError);
    assert.match(e.message, /does not open the invite.*still unused/);
    return true;
  });
  const contact = await bob.acceptInvite(link);
  assert.equal(contact.name, "Alice");
  await alice.sync();
  assert.deepEqual(
    (await alice.contacts()).map((c) => c.name),
    ["Bob"],
  );
  await assert.rejects(bob.acceptInvite(link), /already used/);
});

test("a sealed invite's size does not follow the length of the inviter's name", async () => {
  const sizes = new Set<number>();
  for (const name of [
    "A",
    "Bo",
    "王小明",
    "A much longer display name, sixty-four characters long......!!",
  ]) {
    const client = await newClient(name);
    const { link } = await client.createInvite();
    const { inviteId } = parseInviteLink(link);
    const blob = await new RelayHttpClient(relay.url, crypto).peekInvite(inviteId);
    sizes.add(blob.length);
  }
  assert.equal(sizes.size, 1, `one size for every name, got ${[...sizes].join(", ")}`);
});
