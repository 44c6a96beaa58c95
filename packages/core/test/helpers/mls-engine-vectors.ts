/**
 * Loading the official RFC 9420 vectors for the engine's tests (reusing mls-rfc.ts's locator). A file
 * that is missing skips its test with a message, except under CI=true, where it fails the run: CI must
 * never pass because the vectors were not there.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { loadVectors, locateTestVectors } from "./mls-rfc.js";

const { dir, looked } = locateTestVectors();

/** The suite-1 entries of `file` (or all entries, for suite-less files), or undefined if skipped. */
export function vectors<T>(t: TestContext, file: string, suiteLess = false): T[] | undefined {
  const path = dir === undefined ? undefined : join(dir, file);
  if (path === undefined || !existsSync(path)) {
    const message = `RFC 9420 vector file ${file} not found (looked in ${looked})`;
    if (process.env.CI === "true") throw new Error(`${message}; CI=true requires every vector file`);
    t.skip(message);
    return undefined;
  }
  const all = loadVectors<(T & { cipher_suite?: number | string })[]>(dir!, file);
  const mine = suiteLess ? all : all.filter((v) => Number(v.cipher_suite) === 1);
  if (mine.length === 0) throw new Error(`${file} has no cipher suite 1 vectors`);
  return mine;
}
