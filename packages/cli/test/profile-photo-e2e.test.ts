/**
 * Profile photos (issue 14) through real CLI processes and a real relay: a photo sent to a contact
 * without its metadata, refused when it is no image, removed; then the relay's files are searched
 * for the photo's bytes and its GPS text: neither is there.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { jpegWithGps } from "./files-helpers.js";
import { parley, parleyJson, type RelayProcess, startRelayProcess, tempDir } from "./helpers.js";

interface Contact {
  name: string;
  photo: { mime: string; data: string } | null;
}

let relay: RelayProcess;
const alice = tempDir("pp-alice");
const bob = tempDir("pp-bob");
const photo = jpegWithGps();
const photoPath = join(tempDir("pp-files"), "me.jpg");

before(async () => {
  relay = await startRelayProcess(tempDir("pp-relay"));
  await parleyJson(alice, "init", "--name", "Alice", "--server", relay.url);
  await parleyJson(bob, "init", "--name", "Bob", "--server", relay.url);
  const { link } = await parleyJson<{ link: string }>(alice, "invite");
  await parleyJson(bob, "accept", link);
  await parleyJson(alice, "sync");
  writeFileSync(photoPath, photo.bytes);
});
after(async () => {
  await relay?.stop();
});

test("a profile photo reaches contacts without its location; it can be removed", async () => {
  const set = await parleyJson<{ photo: { mime: string; bytes: number } }>(
    alice,
    "profile",
    "photo",
    photoPath,
  );
  assert.equal(set.photo.mime, "image/jpeg");
  assert.equal(set.photo.bytes, photo.withoutExif.length);
  const synced = await parley(bob, "sync");
  assert.match(synced.stdout, /Alice changed their profile photo/);
  const [a] = await parleyJson<Contact[]>(bob, "contacts");
  assert.equal(a?.photo?.mime, "image/jpeg");
  const got = Buffer.from(a!.photo!.data, "base64url");
  assert.deepEqual(got, photo.withoutExif, "the photo Bob has is Alice's, stripped");
  assert.equal(got.indexOf("GPS 48.8584N"), -1);

  const bad = await parley(alice, "profile", "photo", join(tempDir("pp-x"), "..", "..", "etc-missing"));
  assert.equal(bad.code, 1);
  const notImage = join(tempDir("pp-files2"), "notes.txt");
  writeFileSync(notImage, "not a picture");
  const refused = await parley(alice, "profile", "photo", notImage);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /JPEG, PNG or WebP/);

  await parleyJson(alice, "profile", "photo", "--remove");
  await parleyJson(bob, "sync");
  const [after] = await parleyJson<Contact[]>(bob, "contacts");
  assert.equal(after?.photo, null);
});

test("the relay's files hold neither the photo nor its location", async () => {
  await relay.stop();
  const scan = photo.withoutExif.subarray(photo.withoutExif.length - 200, photo.withoutExif.length - 150);
  const needles = [Buffer.from("GPS 48.8584N"), scan, Buffer.from(scan.toString("base64url").slice(4, 40))];
  for (const file of readdirSync(relay.dataDir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))) {
    const bytes = readFileSync(file);
    for (const n of needles) assert.equal(bytes.indexOf(n), -1, `photo bytes found in ${file}`);
  }
  relay = await startRelayProcess(relay.dataDir, relay.port);
});
