/**
 * The browser app (packages/web/dist) served by the relay, with the headers that make it safe to
 * run: a strict Content-Security-Policy (scripts and styles from this origin only, WebAssembly for
 * Argon2id allowed, network only to this relay, no framing, no plugins), nosniff, no referrer.
 *
 * The policy forbids inline scripts and styles; Vite's build emits none (checked by the web tests).
 */
import { existsSync } from "node:fs";
import { join, sep } from "node:path";
import compress from "@fastify/compress";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { serverPackageRoot } from "../package-root.js";
import { staticRoutes } from "./static.js";

/**
 * The policy for the web app's pages. `connect-src` is 'self' — which covers this origin's ws: and
 * wss: too (CSP Level 3; Chromium since 71, Safari since 16, Firefox) — plus the configured public
 * origins and their WebSocket forms, for a relay reached under a name other than the page's. It is
 * never built from the request's Host header. A web user can therefore only talk through the relay
 * that served the app, which the relay's same-origin API requires anyway.
 */
export function contentSecurityPolicy(publicOrigins: readonly string[] = []): string {
  const connect = ["'self'"];
  for (const origin of publicOrigins) {
    const url = new URL(origin);
    connect.push(url.origin, `${url.protocol === "https:" ? "wss" : "ws"}://${url.host}`);
  }
  return [
    "default-src 'self'",
    "script-src 'self' 'wasm-unsafe-eval'",
    `connect-src ${connect.join(" ")}`,
    "img-src 'self' data: blob:",
    "style-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}

export function securityHeaders(publicOrigins: readonly string[] = []): Record<string, string> {
  return {
    "content-security-policy": contentSecurityPolicy(publicOrigins),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    // The camera for the page itself only: the safety-number scanner (web SafetyScanner.tsx).
    "permissions-policy": "camera=(self), microphone=(), geolocation=()",
  };
}

/** packages/web/dist beside this package, if the web app has been built; else undefined. */
export function defaultWebAppDir(): string | undefined {
  const dir = join(serverPackageRoot(), "..", "web", "dist") + sep;
  return existsSync(`${dir}index.html`) ? dir : undefined;
}

/**
 * Serves `dir` at `/` with the security headers above. Registered in its own encapsulated scope, so
 * the hook touches only the app's responses, not the relay API's.
 */
export async function webAppRoutes(
  app: FastifyInstance,
  dir: string,
  publicOrigins: readonly string[] = [],
): Promise<void> {
  const headers = securityHeaders(publicOrigins);
  await app.register(async (scope) => {
    scope.addHook("onSend", async (_request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
      reply.headers(headers);
      return payload;
    });
    // Text assets (the app's scripts and styles, ~600 KiB) go brotli- or gzip-compressed; the
    // relay API's replies are ciphertext, which does not compress, and are outside this scope.
    await scope.register(compress, { global: true, threshold: 1024, encodings: ["br", "gzip"] });
    await staticRoutes(scope, dir);
  });
}
