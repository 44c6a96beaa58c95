/**
 * People for in-process client tests: a real relay in this process (the relay no longer depends on
 * core, so core's tests may import it), and clients on memory stores that connect by invite.
 */
import { after, before } from "node:test";
import { type RunningRelay, startRelay } from "@parley/server";
import type { ClientEvent } from "../../src/client/events.js";
import { ParleyClient } from "../../src/client/parley-client.js";
import { nodeCryptoProvider as crypto } from "../../src/crypto/node-provider.js";
import { Rfc9420Engine } from "../../src/mls/rfc9420-engine/index.js";
import type { FetchLike } from "../../src/relay-client/relay-http.js";
import { MemoryKeyValueStore } from "../../src/storage/memory-store.js";

export { crypto };
export const engine = new Rfc9420Engine(crypto);

/** A relay for the test file: started before its tests, closed after them. */
export function relayForThisFile(): { readonly url: string } {
  let relay: RunningRelay | undefined;
  before(async () => {
    relay = await startRelay({ port: 0 });
  });
  after(async () => {
    await relay?.close();
  });
  return {
    get url() {
      if (!relay) throw new Error("the relay starts before the tests");
      return relay.url;
    },
  };
}

/** A person with a profile on `relayUrl`; `fetch` stands between them and the relay if given. */
export async function person(
  name: string,
  relayUrl: string,
  options: { fetch?: FetchLike; store?: MemoryKeyValueStore; now?: () => number } = {},
) {
  const store = options.store ?? new MemoryKeyValueStore();
  const client = new ParleyClient({
    store,
    crypto,
    engine,
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.now ? { now: options.now } : {}),
  });
  await client.init(name, relayUrl);
  return { client, store };
}

/** `a` invites `b`; both sync, so each can send to the other. */
export async function connect(a: ParleyClient, b: ParleyClient): Promise<void> {
  const { link } = await a.createInvite();
  await b.acceptInvite(link);
  await a.sync();
  await b.sync();
}

export const eventsOf = <T extends ClientEvent["type"]>(events: ClientEvent[], type: T) =>
  events.filter((e): e is Extract<ClientEvent, { type: T }> => e.type === type);
