/** What a relay process says of itself on /metrics (prom-client), for the benches that load it. */
import { round } from "./report.js";

/**
 * A relay's event-loop delay since the last read (over a whole scenario or run) (prom-client's default metrics, read once at
 * the end; a first read starts the window): a long p99 here is time the relay's one thread was busy; a long round trip with a short
 * loop delay is time spent elsewhere (the disk, the scheduler).
 */
const LOOP_RESOLUTION_MS = 10; // prom-client's default eventLoopMonitoringPrecision
export async function relayLoopDelay(url: string): Promise<{ p99Ms: number | null; maxMs: number | null }> {
  try {
    const text = await (await fetch(`${url}/metrics`)).text();
    const read = (name: string) => {
      const m = new RegExp(`^${name} ([0-9.e+-]+)$`, "m").exec(text);
      // The histogram samples every RESOLUTION ms, and a sample's delay includes that period.
      return m ? round(Math.max(0, Number(m[1]) * 1000 - LOOP_RESOLUTION_MS), 1) : null;
    };
    return {
      p99Ms: read("nodejs_eventloop_lag_p99_seconds"),
      maxMs: read("nodejs_eventloop_lag_max_seconds"),
    };
  } catch {
    return { p99Ms: null, maxMs: null };
  }
}
