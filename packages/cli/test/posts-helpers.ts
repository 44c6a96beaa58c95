/** Shared by the posts-*-e2e tests: profiles on a real relay, the feed as JSON, error codes. */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parley, parleyJson } from "./helpers.js";

export interface PostJson {
  id: string;
  from: string;
  text: string;
  mine: boolean;
  audience: string | null;
  expiresAt: string | null;
  images: { id: string; name: string; removed: string[] }[];
  comments: { from: string; text: string }[];
  likes: string[];
  likedByMe: boolean;
}

export async function connect(a: string, b: string) {
  const { link } = await parleyJson<{ link: string }>(a, "invite");
  await parleyJson(b, "accept", link);
  await parleyJson(a, "sync");
  await parleyJson(b, "sync");
}

/** Syncs, then the feed as `parley feed --json` prints it. */
export async function feed(home: string, ...args: string[]): Promise<PostJson[]> {
  await parleyJson(home, "sync");
  return parleyJson<PostJson[]>(home, "feed", ...args);
}
export const texts = (posts: PostJson[]) => posts.map((p) => p.text);

/** The error code of a command that must fail. */
export async function code(home: string, ...args: string[]): Promise<string> {
  const r = await parley(home, "--json", ...args);
  assert.equal(r.code, 1, `expected a failure: ${r.stdout}${r.stderr}`);
  return (JSON.parse(r.stdout) as { code: string }).code;
}

/** The first file under `dir` (a profile, the relay's data) whose bytes hold `needle`, if any. */
export function holds(dir: string, needle: string): string | undefined {
  const files = readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
  return files
    .map((e) => join(e.parentPath, e.name))
    .find((f) => readFileSync(f).includes(Buffer.from(needle)));
}
