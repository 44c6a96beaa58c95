/**
 * Test helpers for driving the client engine itself (in memory, node crypto) against a real relay:
 * what several test files need to make clients, connect them and read the events they report.
 */
import { type ClientEvent, MemoryKeyValueStore, ParleyClient, Rfc9420Engine } from "@parley/core";
import { nodeCryptoProvider } from "@parley/core/node";
import { personLabel, rejectionText } from "../src/words.js";

export const crypto = nodeCryptoProvider;

/** A client with an in-memory store; `init` it before use. */
export const newMemoryClient = () =>
  new ParleyClient({ store: new MemoryKeyValueStore(), crypto, engine: new Rfc9420Engine(crypto) });

/** a invites b, b accepts, both sync: contacts with each other's KeyPackages. */
export async function connectClients(a: ParleyClient, b: ParleyClient): Promise<void> {
  const { link } = await a.createInvite();
  await b.acceptInvite(link);
  await a.sync(); // intro and b's key packages
  await b.sync(); // a's key packages
}

/** Message texts of the events, in order. */
export const texts = (events: ClientEvent[]) =>
  events.flatMap((e) => (e.type === "message" ? [e.message.text] : []));
/** "Sender: text" of the message events, in order, the sender named as the CLI names them. */
export const said = (events: ClientEvent[]) =>
  events.flatMap((e) => (e.type === "message" ? [`${personLabel(e.message.from)}: ${e.message.text}`] : []));
/** Why messages were rejected, in the CLI's words. */
export const rejections = (events: ClientEvent[]) =>
  events.flatMap((e) => (e.type === "rejected" ? [rejectionText(e)] : []));
export const warnings = (events: ClientEvent[]) =>
  events.flatMap((e) => (e.type === "warning" ? [e.code] : []));
