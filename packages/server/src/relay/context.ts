import type { FastifyBaseLogger } from "fastify";
import type { Bus } from "../bus/bus.js";
import type { RelayConfig } from "../config.js";
import type { Retention } from "../retention.js";
import type { Store } from "../store/store.js";

/** What every route and WebSocket session works with. */
export interface RelayContext {
  store: Store;
  bus: Bus;
  config: RelayConfig;
  retention: Retention;
  now: () => number;
  log: FastifyBaseLogger;
}
