/** A real relay in this process (`@parley/server`), for tests of the client against the wire. */
import { type RunningRelay, type StartRelayOptions, startRelay } from "@parley/server";

export async function startTestRelay(
  t: { after: (fn: () => Promise<void> | void) => void },
  options: StartRelayOptions = {},
): Promise<RunningRelay> {
  const relay = await startRelay({ port: 0, ...options });
  t.after(() => relay.close());
  return relay;
}

/** A body of exactly `size` bytes with a recognisable pattern (the relay checks only the size). */
export function envelope(size = 512, fill = 7): Uint8Array {
  const body = new Uint8Array(size).fill(fill);
  new DataView(body.buffer).setUint32(0, size - 4);
  return body;
}

export const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));
