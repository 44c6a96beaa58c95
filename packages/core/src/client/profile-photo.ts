/**
 * Our profile photo (issue 14): checked to be a JPEG, PNG or WebP image, stripped of its metadata
 * (files/strip-metadata.ts: location, camera, times), at most MAX_PROFILE_PHOTO_BYTES, kept in the
 * profile and sent end to end to every contact (a `profile-photo` message in each 1:1 chat). The
 * relay sees one more padded message per contact; no blob, no photo.
 */
import { MAX_PROFILE_PHOTO_BYTES, PROFILE_PHOTO_TYPES, type ProfilePhoto } from "../content/index.js";
import { ParleyError } from "../errors.js";
import { detectType } from "../files/detect.js";
import { MetadataError, stripMetadata } from "../files/strip-metadata.js";
import type { ProfileRecord } from "../store/records.js";
import { b64 } from "../store/repository.js";
import type { ClientContext } from "./context.js";
import { requireProfile } from "./context.js";
import type { ClientEvent } from "./events.js";
import { attempt } from "./followups/attempt.js";
import { sendContentLocked } from "./outbox.js";

/**
 * The photo as it may travel: its detected type (never the one claimed) and its bytes stripped.
 * Used by the sender and again by every receiver, who trusts neither the sender's type nor its strip.
 */
export async function checkPhoto(bytes: Uint8Array): Promise<ProfilePhoto> {
  const detected = await detectType(bytes.subarray(0, 4096));
  const mime = PROFILE_PHOTO_TYPES.find((t) => t === detected?.mime);
  if (!mime) throw new ParleyError("bad_photo", { reason: "not_an_image" });
  let stripped: Uint8Array;
  try {
    stripped = stripMetadata(bytes).bytes;
  } catch (e) {
    if (e instanceof MetadataError) throw new ParleyError("bad_photo", { reason: "damaged" });
    throw e;
  }
  if (stripped.length > MAX_PROFILE_PHOTO_BYTES) {
    throw new ParleyError("bad_photo", {
      reason: "too_large",
      size: stripped.length,
      max: MAX_PROFILE_PHOTO_BYTES,
    });
  }
  return { mime, data: b64(stripped) };
}

/** Sets (or with `null` removes) our photo and tells every contact we can reach. */
export async function setProfilePhoto(
  ctx: ClientContext,
  bytes: Uint8Array | null,
): Promise<{ profile: ProfileRecord; events: ClientEvent[] }> {
  const photo = bytes === null ? null : await checkPhoto(bytes);
  const profile = await ctx.lock.run(async () => {
    const { photo: _old, ...rest } = await requireProfile(ctx);
    const changed: ProfileRecord = photo ? { ...rest, photo } : rest;
    await ctx.repo.commit(ctx.repo.putProfile(ctx.repo.batch(), changed));
    return changed;
  });
  const events: ClientEvent[] = [];
  const blocked = new Set((await ctx.repo.contacts()).filter((c) => c.blocked).map((c) => c.id));
  for (const c of await ctx.repo.conversations()) {
    if (c.kind !== "direct" || c.supersededBy || !c.sendTo || blocked.has(c.contactId)) continue;
    // One contact out of reach is a warning; the others still get it.
    await attempt(events, c.id, "profile", () =>
      ctx.lock.run(() => sendContentLocked(ctx, c.id, { type: "profile-photo", photo })),
    );
  }
  return { profile, events };
}
