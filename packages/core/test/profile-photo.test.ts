/**
 * Profile photos (client/profile-photo.ts): stripped of metadata, small, sent end to end to every
 * contact (also to one who connects later), removable; a receiver checks and strips again.
 */
import assert from "node:assert/strict";
import { it } from "node:test";
import { type ParleyClient, unb64 } from "../src/index.js";
import { connect, eventsOf, person, relayForThisFile } from "./helpers/people.js";

const relay = relayForThisFile();
const enc = (s: string) => new TextEncoder().encode(s);
const cat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};
const segment = (marker: number, payload: Uint8Array) =>
  cat(new Uint8Array([0xff, marker, (payload.length + 2) >> 8, (payload.length + 2) & 0xff]), payload);

/** A JPEG whose EXIF names a camera and a place; `scanBytes` of picture. */
function jpegWithGps(scanBytes = 2000): Uint8Array {
  const tiff = new Uint8Array(64);
  tiff.set(enc("II*\0"));
  const v = new DataView(tiff.buffer);
  v.setUint32(4, 8, true);
  v.setUint16(8, 1, true);
  v.setUint16(10, 0x8825, true); // GPS IFD pointer
  tiff.set(enc("GPS 48.8584N 2.2945E"), 30);
  const scan = crypto.getRandomValues(new Uint8Array(scanBytes)).map((b) => (b === 0xff ? 0 : b));
  return cat(
    new Uint8Array([0xff, 0xd8]),
    segment(0xe0, enc("JFIF\0\x01\x01\0\0\x01\0\x01\0\0")),
    segment(0xe1, cat(enc("Exif\0\0"), tiff)),
    new Uint8Array([0xff, 0xda, 0, 8, 1, 1, 0, 0, 0x3f, 0]),
    scan,
    new Uint8Array([0xff, 0xd9]),
  );
}
const contains = (hay: Uint8Array, needle: string) => Buffer.from(hay).includes(Buffer.from(needle));
const photoOf = async (c: ParleyClient, name: string) =>
  (await c.contacts()).find((x) => x.name === name)?.photo ?? null;

it("a photo reaches every contact end to end, without its metadata, and can be removed", async () => {
  const alice = await person("Alice", relay.url);
  const bob = await person("Bob", relay.url);
  await connect(alice.client, bob.client);
  const jpeg = jpegWithGps();
  assert.ok(contains(jpeg, "GPS 48.8584N"));

  const { profile } = await alice.client.setProfilePhoto(jpeg);
  assert.equal(profile.photo?.mime, "image/jpeg");
  const events = eventsOf(await bob.client.sync(), "contact");
  assert.deepEqual(
    events.map((e) => e.change),
    ["photo"],
  );
  const seen = await photoOf(bob.client, "Alice");
  assert.equal(seen?.mime, "image/jpeg");
  const bytes = unb64(seen!.data);
  assert.ok(!contains(bytes, "GPS 48.8584N"), "the location never left Alice's device");
  assert.ok(!contains(bytes, "Exif"));
  assert.deepEqual(
    bytes.subarray(bytes.length - 2002),
    jpeg.subarray(jpeg.length - 2002),
    "the picture is unchanged",
  );

  // Someone Alice connects with later gets the photo too.
  const carol = await person("Carol", relay.url);
  await connect(alice.client, carol.client);
  await carol.client.sync();
  assert.equal((await photoOf(carol.client, "Alice"))?.data, seen!.data);

  await alice.client.setProfilePhoto(null);
  await bob.client.sync();
  assert.equal(await photoOf(bob.client, "Alice"), null);
  assert.equal((await alice.client.profile()).photo, undefined);
});

it("refuses what is not a small image, before anything is sent; a receiver refuses a forged one", async () => {
  const alice = await person("Alice", relay.url);
  const bob = await person("Bob", relay.url);
  await connect(alice.client, bob.client);
  await assert.rejects(alice.client.setProfilePhoto(enc("<svg onload=alert(1)>")), {
    code: "bad_photo",
    data: { reason: "not_an_image" },
  });
  await assert.rejects(
    alice.client.setProfilePhoto(jpegWithGps(60 * 1024)),
    (e: { code?: string; data?: { reason?: string; size?: number; max?: number } }) =>
      e.code === "bad_photo" && e.data?.reason === "too_large" && e.data.size! > e.data.max!,
  );
  assert.equal((await alice.client.profile()).photo, undefined);

  // Alice's client modified to skip its checks: Bob's client checks again.
  const forged = alice.client as unknown as {
    sendBodyUnchecked(to: string, body: unknown): Promise<unknown>;
  };
  await forged.sendBodyUnchecked("Bob", {
    type: "profile-photo",
    photo: { mime: "image/png", data: Buffer.from("<svg onload=alert(1)>").toString("base64url") },
  });
  const rejected = eventsOf(await bob.client.sync(), "rejected");
  assert.equal(rejected.length, 1);
  assert.equal(await photoOf(bob.client, "Alice"), null);
});
