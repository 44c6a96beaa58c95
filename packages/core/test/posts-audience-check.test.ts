/**
 * The audience check before a post (client/posts/audiences.ts, issue 12's speed target): a post reads
 * no contact while nothing changed since the feed group was last brought in line (the contacts
 * revision and the group's epoch), and any change to contacts brings the check back: a new contact
 * reads the next post, a blocked one does not, a contact whose block is lifted reads again.
 * In-process clients and a real relay.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import type { ParleyClient } from "../src/client/parley-client.js";
import { connect, person, relayForThisFile } from "./helpers/people.js";

/** What `c` has read, newest first, after a sync. */
async function feedOf(c: ParleyClient): Promise<string[]> {
  await c.sync();
  return (await c.feed()).map((p) => p.text);
}

describe("posts: the audience check", () => {
  const relay = relayForThisFile();
  let alice: ParleyClient;
  let bob: ParleyClient;
  let carol: ParleyClient;
  let contactReads = 0;

  before(async () => {
    alice = (await person("Alice", relay.url)).client;
    bob = (await person("Bob", relay.url)).client;
    carol = (await person("Carol", relay.url)).client;
    await connect(alice, bob);
    const contacts = alice.repo.contacts;
    alice.repo.contacts = () => {
      contactReads++;
      return contacts();
    };
  });

  it("reads no contact while no contact changed", async () => {
    await alice.post({ text: "one" });
    assert.ok(contactReads > 0, "the first post brings the group in line");
    assert.deepEqual(await feedOf(bob), ["one"]);
    contactReads = 0;
    await alice.post({ text: "two" });
    await alice.post({ text: "three" });
    assert.equal(contactReads, 0, "a post with nothing changed read every contact");
    assert.deepEqual(await feedOf(bob), ["three", "two", "one"]);
  });

  it("a new contact, a blocked one and an unblocked one are seen at the next post", async () => {
    await connect(alice, carol);
    contactReads = 0;
    await alice.post({ text: "with Carol" });
    assert.ok(contactReads > 0);
    assert.deepEqual(await feedOf(carol), ["with Carol"]);
    assert.equal((await feedOf(bob))[0], "with Carol");

    await alice.blockContact("Carol");
    await alice.post({ text: "Carol blocked" });
    assert.equal((await feedOf(bob))[0], "Carol blocked");
    assert.deepEqual(await feedOf(carol), ["with Carol"]);

    await alice.blockContact("Carol", false);
    await alice.post({ text: "Carol back" });
    assert.equal((await feedOf(carol))[0], "Carol back");
    contactReads = 0;
    await alice.post({ text: "nothing new" });
    assert.equal(contactReads, 0);
    assert.equal((await feedOf(carol))[0], "nothing new");
  });
});
