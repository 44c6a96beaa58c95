/**
 * Serves a directory (the browser app) at `/`. Small on purpose: GET/HEAD of files under one root,
 * `index.html` for directories, nothing outside the root even through symlinks. Invite links keep
 * their secret in the URL fragment, which browsers never send, so no path here carries one.
 */
import { createReadStream } from "node:fs";
import { realpath, stat } from "node:fs/promises";
import { extname, join, resolve, sep } from "node:path";
import { ErrorCodes, ErrorStatus } from "@parley/protocol";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".webmanifest": "application/manifest+json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".gif": "image/gif",
  ".webp": "image/webp",
  ".ico": "image/x-icon",
  ".wasm": "application/wasm",
  ".woff": "font/woff",
  ".woff2": "font/woff2",
  ".txt": "text/plain; charset=utf-8",
};

const notFound = (reply: FastifyReply) =>
  reply
    .code(ErrorStatus.not_found)
    .type("application/json")
    .send({ code: ErrorCodes.notFound, error: "no such file" });

/**
 * Parts of the build that are not the app: the web package compiles its tests into dist/test, and
 * source maps would hand out the sources. Neither is served, nor are dotfiles.
 */
function servable(relative: string): boolean {
  const segments = relative.split(sep);
  if (segments[0] === "test") return false;
  if (segments.some((s) => s.startsWith("."))) return false;
  return extname(relative).toLowerCase() !== ".map";
}

/**
 * How long a browser may keep a file. Vite names everything under `assets/` after a hash of its
 * content, so such a file never changes under its name: cached for a year and never asked again
 * (`immutable`). Everything else — index.html above all, which names the current assets — is
 * revalidated on every visit (`no-cache` with an ETag: a 304 of a few hundred bytes when unchanged).
 */
function cacheControl(relative: string): string {
  return relative.split(sep)[0] === "assets" ? "public, max-age=31536000, immutable" : "no-cache";
}

/** A validator from what changes when the file does (size, modification time); weak: not byte-exact. */
const etagOf = (size: number, mtimeMs: number) =>
  `W/"${size.toString(36)}-${Math.floor(mtimeMs).toString(36)}"`;

/** The file a URL path names inside `root`, or undefined if it names nothing servable. */
async function locate(
  root: string,
  urlPath: string,
): Promise<{ path: string; relative: string; size: number; mtimeMs: number } | undefined> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  if (decoded.includes("\0")) return undefined;
  let path = resolve(root, `.${decoded.startsWith("/") ? decoded : `/${decoded}`}`);
  if (path !== root && !path.startsWith(root + sep)) return undefined;
  try {
    let info = await stat(path);
    if (info.isDirectory()) {
      path = join(path, "index.html");
      info = await stat(path);
    }
    if (!info.isFile()) return undefined;
    const real = await realpath(path);
    const relative = real.slice(root.length + 1);
    if (!real.startsWith(root + sep) || !servable(relative)) return undefined;
    return { path: real, relative, size: info.size, mtimeMs: info.mtimeMs };
  } catch {
    return undefined;
  }
}

export async function staticRoutes(app: FastifyInstance, dir: string): Promise<void> {
  const root = await realpath(resolve(dir));
  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const urlPath = request.url.split("?")[0] ?? "/";
    if (urlPath.startsWith("/v1/")) return notFound(reply);
    const file = await locate(root, urlPath);
    if (!file) return notFound(reply);
    const etag = etagOf(file.size, file.mtimeMs);
    reply
      .type(TYPES[extname(file.path).toLowerCase()] ?? "application/octet-stream")
      .header("cache-control", cacheControl(file.relative))
      .header("etag", etag)
      .header("vary", "accept-encoding")
      .header("x-content-type-options", "nosniff")
      .header("referrer-policy", "no-referrer");
    if (request.headers["if-none-match"]?.split(/\s*,\s*/).includes(etag)) return reply.code(304).send();
    // HEAD: headers only, with the file's real length (Fastify's automatic HEAD route would run
    // this handler and then report a length of 0, so GET and HEAD are declared together).
    if (request.method === "HEAD") return reply.header("content-length", file.size).send();
    // Compressed on the way out (brotli or gzip, as the browser accepts: @fastify/compress,
    // registered around these routes in static-app.ts); the length is then the compressed one.
    return reply.send(createReadStream(file.path));
  };
  app.route({ method: ["GET", "HEAD"], url: "/*", handler });
}
