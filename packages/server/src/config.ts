import { DEFAULT_MAX_MESSAGE_BYTES, FETCH_MAX_BYTES, PADDING_BUCKETS } from "@parley/core";

const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;

export interface RelayConfig {
  /** How long an unacknowledged message, and a queue nobody uses, is kept. */
  ttlMs: number;
  /** How long an unclaimed invite is kept. */
  inviteTtlMs: number;
  /** Largest accepted message body; bodies must also be a padding bucket size. */
  maxMessageBytes: number;
  /** Soft cap on the bodies in one fetch reply or WebSocket batch (one message is always allowed). */
  maxFetchBytes: number;
  /** How often expired data is deleted; 0 turns the sweep off (tests call `store.expire` themselves). */
  sweepIntervalMs: number;
  /**
   * Every time the relay writes to disk is rounded up to this, so the database tells when something
   * arrived or was used only to within this much.
   */
  timeGranularityMs: number;
  /** How often idle WebSocket connections are pinged; a connection that misses a pong is dropped. */
  heartbeatMs: number;
  /** Directory served at `/` (the browser app), or undefined for none. */
  staticDir?: string | undefined;
}

export const DEFAULT_CONFIG: RelayConfig = {
  ttlMs: 14 * DAY,
  inviteTtlMs: 7 * DAY,
  maxMessageBytes: DEFAULT_MAX_MESSAGE_BYTES,
  maxFetchBytes: FETCH_MAX_BYTES,
  sweepIntervalMs: 60 * 1000,
  timeGranularityMs: HOUR,
  heartbeatMs: 30 * 1000,
  staticDir: undefined,
};

export class ConfigError extends Error {
  override name = "ConfigError";
}

export function resolveConfig(partial: Partial<RelayConfig> = {}): RelayConfig {
  const config: RelayConfig = { ...DEFAULT_CONFIG };
  for (const [key, value] of Object.entries(partial)) {
    if (value !== undefined) (config as unknown as Record<string, unknown>)[key] = value;
  }
  const positive = (name: keyof RelayConfig) => {
    const v = config[name];
    if (typeof v !== "number" || !Number.isFinite(v) || v <= 0) {
      throw new ConfigError(`${name} must be a positive number, got ${String(v)}`);
    }
  };
  positive("ttlMs");
  positive("inviteTtlMs");
  positive("maxFetchBytes");
  positive("timeGranularityMs");
  positive("heartbeatMs");
  if (!Number.isFinite(config.sweepIntervalMs) || config.sweepIntervalMs < 0) {
    throw new ConfigError("sweepIntervalMs must be 0 (off) or positive");
  }
  const smallest = PADDING_BUCKETS[0];
  if (
    !Number.isInteger(config.maxMessageBytes) ||
    config.maxMessageBytes < smallest ||
    config.maxMessageBytes > DEFAULT_MAX_MESSAGE_BYTES
  ) {
    throw new ConfigError(
      `maxMessageBytes must be between ${smallest} and ${DEFAULT_MAX_MESSAGE_BYTES}, got ${config.maxMessageBytes}`,
    );
  }
  return config;
}

export const daysToMs = (days: number): number => days * DAY;
