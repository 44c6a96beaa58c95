/**
 * `/healthz` and `/metrics` on every node. Prometheus text format via prom-client, in a registry of
 * the relay's own. Labels never name a queue, a user or a connection: only routes (as patterns),
 * status classes and node-wide counts, so the numbers say how busy a node is and nothing about whom.
 */
import type { FastifyInstance } from "fastify";
import { Counter, collectDefaultMetrics, Gauge, Registry } from "prom-client";
import type { Bus } from "../bus/bus.js";

export interface RelayMetrics {
  registry: Registry;
  /** A message stored for delivery (a send accepted). */
  stored: Counter;
  /** A message handed to a WebSocket (pushed). */
  pushed: Counter;
  /** Of those, one taken from its announcement (the bus carried it) instead of read from the store. */
  handedOver: Counter;
  requests: Counter<"route" | "status">;
}

export interface HealthSources {
  bus: Bus;
  /** The store's own check (PostgreSQL answers); omitted: an embedded store, always up. */
  storeProbe?: (() => Promise<void>) | undefined;
  gauges?: (() => Record<string, number>) | undefined;
  /** WebSocket connections open now. */
  connections: () => number;
}

/** Process-wide metrics (memory, CPU, event loop lag), collected once however many relays run here. */
let processRegistry: Registry | undefined;
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

export function createMetrics(): RelayMetrics {
  const registry = new Registry();
  return {
    registry,
    stored: new Counter({
      name: "parley_messages_stored_total",
      help: "Messages accepted and stored by this node",
      registers: [registry],
    }),
    pushed: new Counter({
      name: "parley_messages_pushed_total",
      help: "Messages pushed to WebSocket subscribers by this node",
      registers: [registry],
    }),
    handedOver: new Counter({
      name: "parley_messages_handed_over_total",
      help: "Messages pushed as their announcement carried them, without reading them from the store",
      registers: [registry],
    }),
    requests: new Counter({
      name: "parley_http_requests_total",
      help: "HTTP requests answered by this node, by route pattern and status class",
      labelNames: ["route", "status"] as const,
      registers: [registry],
    }),
  };
}

/** How long a health check may take before it counts as failed. */
const PROBE_TIMEOUT_MS = 2000;

async function check(probe: (() => Promise<void>) | undefined): Promise<boolean> {
  if (!probe) return true;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      probe(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error("timeout")), PROBE_TIMEOUT_MS);
      }),
    ]);
    return true;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

export function metricsRoutes(app: FastifyInstance, metrics: RelayMetrics, sources: HealthSources): void {
  const up = new Gauge({
    name: "parley_up",
    help: "1 when this node's store and bus answer, else 0, by dependency",
    labelNames: ["dependency"] as const,
    registers: [metrics.registry],
  });
  new Gauge({
    name: "parley_websocket_connections",
    help: "WebSocket connections open on this node",
    registers: [metrics.registry],
    collect() {
      this.set(sources.connections());
    },
  });
  if (sources.gauges) {
    const first = sources.gauges();
    for (const name of Object.keys(first)) {
      new Gauge({
        name: `parley_${name}`,
        help: `${name.replaceAll("_", " ")} (this node)`,
        registers: [metrics.registry],
        collect() {
          this.set(sources.gauges?.()[name] ?? 0);
        },
      });
    }
  }

  const health = async () => {
    const [store, bus] = await Promise.all([
      check(sources.storeProbe),
      check(() => sources.bus.probe?.() ?? Promise.resolve()),
    ]);
    up.set({ dependency: "store" }, store ? 1 : 0);
    up.set({ dependency: "bus" }, bus ? 1 : 0);
    return { store, bus };
  };

  app.get("/healthz", async (_request, reply) => {
    const { store, bus } = await health();
    const ok = store && bus;
    return reply
      .code(ok ? 200 : 503)
      .header("cache-control", "no-store")
      .send({ ok, store: store ? "up" : "down", bus: bus ? "up" : "down" });
  });

  app.get("/metrics", async (_request, reply) => {
    await health();
    return reply
      .header("content-type", metrics.registry.contentType)
      .header("cache-control", "no-store")
      .send(`${await processMetrics().metrics()}\n${await metrics.registry.metrics()}`);
  });

  app.addHook("onResponse", async (request, reply) => {
    const route = request.routeOptions.url ?? "unknown";
    if (route === "/metrics" || route === "/healthz") return;
    metrics.requests.inc({ route, status: `${Math.floor(reply.statusCode / 100)}xx` });
  });
}
