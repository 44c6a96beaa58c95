import { randomBytes } from "node:crypto";
import { toBase64Url } from "@parley/protocol";

/** A fresh relay-chosen identifier: 16 random bytes, base64url (22 chars). */
export const newId = (): string => toBase64Url(randomBytes(16));
