/**
 * The inbox registry: a content kind → what this device does with it. The compiler checks that
 * every kind of content/index.ts has an entry; a kind without a `direct` (or `group`) handler is
 * rejected in that kind of conversation.
 */
import type { HandlerRegistry } from "../types.js";
import { deleteMessage } from "./delete.js";
import { deviceState } from "./device-state.js";
import { edit } from "./edit.js";
import { expire } from "./expire.js";
import { file } from "./file.js";
import { groupInvite } from "./group-invite.js";
import { groupLeave } from "./group-leave.js";
import { groupLink } from "./group-link.js";
import { groupQueue } from "./group-queue.js";
import { groupReadd } from "./group-readd.js";
import { intro } from "./intro.js";
import { keyPackages } from "./key-packages.js";
import { post } from "./post.js";
import { postComment } from "./post-comment.js";
import { postDelete } from "./post-delete.js";
import { postLike } from "./post-like.js";
import { profile } from "./profile.js";
import { profilePhoto } from "./profile-photo.js";
import { reaction } from "./reaction.js";
import { read } from "./read.js";
import { receipt } from "./receipt.js";
import { replyTo } from "./reply-to.js";
import { text } from "./text.js";
import { typing } from "./typing.js";

export const handlers: HandlerRegistry = {
  text,
  intro,
  "reply-to": replyTo,
  receipt,
  "key-packages": keyPackages,
  "group-invite": groupInvite,
  profile,
  "profile-photo": profilePhoto,
  "group-queue": groupQueue,
  "group-leave": groupLeave,
  "group-link": groupLink,
  "group-readd": groupReadd,
  file,
  reaction,
  edit,
  delete: deleteMessage,
  expire,
  read,
  typing,
  post,
  "post-comment": postComment,
  "post-like": postLike,
  "post-delete": postDelete,
  "device-state": deviceState,
};
