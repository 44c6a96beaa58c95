/**
 * `profile-photo`: a contact's new profile photo (or its removal). Checked and stripped again
 * here (client/profile-photo.ts): what arrives is the sender's word, not proof it is a clean image.
 */
import { isParleyError } from "../../../errors.js";
import { unb64 } from "../../../store/repository.js";
import { contactView } from "../../lookup.js";
import { checkPhoto } from "../../profile-photo.js";
import { reject } from "../rejection.js";
import { type ContentHandler, nothing } from "../types.js";

export const profilePhoto: ContentHandler<"profile-photo"> = {
  async direct({ ctx, batch, conversation, contact, body }) {
    let photo = null;
    if (body.photo) {
      try {
        photo = await checkPhoto(unb64(body.photo.data));
      } catch (e) {
        if (!isParleyError(e, "bad_photo")) throw e;
        return reject({ reason: "malformed", detail: `profile photo: ${e.data.reason}` });
      }
    }
    if (!photo && !contact.photo) return nothing();
    const { photo: _old, ...rest } = contact;
    const changed = photo ? { ...rest, photo } : rest;
    ctx.repo.putContact(batch, changed);
    return {
      events: [{ type: "contact", contact: contactView(changed, conversation), change: "photo" }],
      followups: [],
    };
  },
};
