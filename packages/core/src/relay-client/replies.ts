/**
 * Reading a relay's replies, for every HTTP client of the relay (relay-http.ts, blob-http.ts): a
 * reply that is not what the protocol says becomes a RelayError, never a SyntaxError or a zod error.
 */
import { ErrorBody } from "@parley/protocol";
import type { z } from "zod";
import { RelayError } from "./errors.js";

/**
 * A success reply's body as JSON. Found by fuzzing: a 2xx reply whose body is not JSON (an empty
 * body, a proxy's HTML page) threw the SyntaxError of `res.json()` instead of a RelayError.
 */
export async function readJson(res: Response): Promise<unknown> {
  try {
    return await res.json();
  } catch {
    throw new RelayError("bad_response", "relay sent a response that is not JSON");
  }
}

export function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (!result.success) throw new RelayError("bad_response", "relay sent a malformed response");
  return result.data;
}

/** An error reply's `{code, error}`; a non-Parley error page (a proxy, say) keeps its HTTP status. */
export async function errorOf(res: Response): Promise<ErrorBody> {
  try {
    return ErrorBody.parse(await res.json());
  } catch {
    return { code: `http_${res.status}`, error: res.statusText };
  }
}

/**
 * Reads a reply whose body says nothing we need (`{ok: true}`) to its end. A reply left unread
 * keeps its connection busy: with Node's http (the CLI's fetch, @parley/node) the socket is not
 * handed back to the pool until it times out, and a finished `parley sync` that had acknowledged
 * messages stayed alive 5 s more waiting for it (6 s of a 7.5 s sync, measured).
 */
export async function drain(res: Response): Promise<void> {
  await res.arrayBuffer().catch(() => {});
}
