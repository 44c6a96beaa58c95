/**
 * The browser app (packages/web/dist) served by the relay, with the headers that make it safe to
 * run: a strict Content-Security-Policy (scripts and styles from this origin only, WebAssembly for
 * Argon2id allowed, network only to this relay, no framing, no plugins), nosniff, no referrer.
 *
 * The policy forbids inline scripts and styles; Vite's build emits none (checked by the web tests).
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { staticRoutes } from "./static.js";

/** `host[:port]` as a browser sends it: a DNS name, IPv4 or a bracketed IPv6 literal. */
const HOST = /^(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/**
 * The policy for a page served to a request with this Host header. `connect-src` names the relay's
 * own WebSocket origins explicitly (older engines do not let 'self' cover ws:/wss:); without a
 * usable Host it stays at 'self'. A web user can therefore only talk through the relay that served
 * the app — which the relay's same-origin API requires anyway.
 */
export function contentSecurityPolicy(host?: string): string {
  const connect = ["'self'"];
  if (host && HOST.test(host)) connect.push(`ws://${host}`, `wss://${host}`);
  return [
    "default-src 'self'",
    "script-src 'self' 'wasm-unsafe-eval'",
    `connect-src ${connect.join(" ")}`,
    "img-src 'self' data:",
    "style-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}

export function securityHeaders(host?: string): Record<string, string> {
  return {
    "content-security-policy": contentSecurityPolicy(host),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
  };
}

/** packages/web/dist beside this package, if the web app has been built; else undefined. */
export function defaultWebAppDir(): string | undefined {
  // dist/src/http/static-app.js → packages/web/dist
  const dir = fileURLToPath(new URL("../../../../web/dist/", import.meta.url));
  return existsSync(`${dir}index.html`) ? dir : undefined;
}

/**
 * Serves `dir` at `/` with the security headers above. Registered in its own encapsulated scope, so
 * the hook touches only the app's responses, not the relay API's.
 */
export async function webAppRoutes(app: FastifyInstance, dir: string): Promise<void> {
  await app.register(async (scope) => {
    scope.addHook("onSend", async (request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
      reply.headers(securityHeaders(request.headers.host));
      return payload;
    });
    await staticRoutes(scope, dir);
  });
}
