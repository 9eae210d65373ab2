/**
 * Settings: the one place that reads the environment. Every value has a safe default; a bad value
 * stops startup with a `SettingsError` naming the variable. The server reads them once, at
 * startup, before any route or consumer file is imported; code reads them with `getSettings()`.
 */
import process from "node:process";
import { SettingsError } from "./errors.ts";
import type { LayerOptions } from "./layers/layer.ts";
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from "./log.ts";
import { DEFAULT_LIMITS, type Limits } from "./security/limits.ts";
import { isValidOriginRule } from "./security/origin.ts";

/** Channel layer backends that can be chosen with CHANNEL_LAYER. */
export const CHANNEL_LAYERS = ["memory", "redis", "redis-cluster", "channels_redis"] as const;

/** Everything a deployment may change. */
export interface Settings {
  /** `PORT`: TCP port, 0 picks a free one. Default 8000. */
  port: number;
  /** `HOST`: interface to listen on. Default `0.0.0.0` (all). */
  host: string;
  /** `LOG_LEVEL`: debug, info, warn, error or silent. Default info. */
  logLevel: LogLevel;
  /** `LOG_FORMAT`: text (for people) or json (one object per line, for log collectors). Default text. */
  logFormat: LogFormat;
  /** `SHUTDOWN_TIMEOUT_MS`: how long shutdown waits for clients to finish closing. Default 5000. */
  shutdownTimeoutMs: number;
  /** `CHANNEL_LAYER`: the layer backend. Default memory. */
  channelLayer: (typeof CHANNEL_LAYERS)[number];
  /** `CHANNEL_CAPACITY` (100), `CHANNEL_EXPIRY` (60 s), `GROUP_EXPIRY` (86,400 s). */
  layerOptions: Required<Omit<LayerOptions, "channelCapacity">>;
  /** `REDIS_URL`: the Redis of the redis layer. Default `redis://127.0.0.1:6379`. */
  redisUrl: string;
  /** `REDIS_PREFIX`: prefix of the layer's keys, so apps can share a Redis. Default `hc` (`asgi` for channels_redis). */
  redisPrefix: string;
  /** `REDIS_CLUSTER_NODES`: comma-separated `host:port` seeds of the redis-cluster layer (required by it). */
  redisClusterNodes: string[];
  /**
   * `CHANNEL_ENCRYPTION_KEYS`: comma-separated keys, channels_redis's `symmetric_encryption_keys`
   * (the first encrypts, any decrypts). channels_redis layer only. Default none.
   */
  channelEncryptionKeys: string[];
  /** `METRICS`: false removes GET /metrics. Default true. */
  metrics: boolean;
  /** `METRICS_TOKEN`: a bearer token that reads /metrics from anywhere; unset, only this machine may (16+ characters). */
  metricsToken: string | null;
  /** `RUN_WORKERS`: false leaves `workers/` to `npm run worker` processes. Default true. */
  runWorkers: boolean;
  /** `NODE_ENV=production`: same-host origins only by default, and SECRET_KEY required. */
  production: boolean;
  /** `ALLOWED_ORIGINS`: comma-separated origins (`https://a.com`, `*.example.com`, `*`); null = default. */
  allowedOrigins: string[] | null;
  /** `SECRET_KEY`: signs auth tokens. Required in production; a random one per process in development. */
  secretKey: string;
  /** `MAX_JSON_DEPTH`: deepest nesting of arrays and objects accepted in JSON frames and bodies (1-1000). Default 64. */
  maxJsonDepth: number;
  /** `MAX_FRAME_BYTES`, `MAX_BUFFERED_BYTES`, `MAX_PENDING_BYTES`, `SLOW_CLIENT_POLICY`, `MAX_MESSAGES_PER_SECOND`, `MAX_CONNECTIONS`. */
  limits: Limits;
}

type Environment = Record<string, string | undefined>;

let current: Settings | undefined;

/**
 * The settings of this process, read from the environment on first use and never again, so every
 * view, consumer and middleware sees the same values (and the same development SECRET_KEY).
 * @example
 * export default tokenAuth({ secret: getSettings().secretKey });
 */
export function getSettings(): Settings {
  current ??= loadSettings();
  return current;
}

/** Reads settings from `env` (the process environment by default). Each call reads anew: use `getSettings()`. */
export function loadSettings(env: Environment = process.env): Settings {
  const production = env.NODE_ENV?.trim() === "production";
  const channelLayer = readChoice(env, "CHANNEL_LAYER", CHANNEL_LAYERS, "memory");
  return {
    port: readInteger(env, "PORT", 8000, 0, 65535),
    host: readHost(env),
    logLevel: readChoice(env, "LOG_LEVEL", LOG_LEVELS, "info"),
    logFormat: readChoice(env, "LOG_FORMAT", LOG_FORMATS, "text"),
    shutdownTimeoutMs: readInteger(env, "SHUTDOWN_TIMEOUT_MS", 5000, 0, 600_000),
    channelLayer,
    layerOptions: {
      capacity: readInteger(env, "CHANNEL_CAPACITY", 100, 1, 1_000_000),
      expiry: readInteger(env, "CHANNEL_EXPIRY", 60, 1, 86_400 * 30),
      groupExpiry: readInteger(env, "GROUP_EXPIRY", 86_400, 1, 86_400 * 365),
    },
    redisUrl: readRedisUrl(env),
    redisPrefix: readPattern(
      env,
      "REDIS_PREFIX",
      // channels_redis's default, so a Django project's groups are found without configuration.
      channelLayer === "channels_redis" ? "asgi" : "hc",
      /^[\w.:-]{1,50}$/,
      "letters, digits, _, ., : and - (1-50)",
    ),
    redisClusterNodes: readClusterNodes(env, channelLayer === "redis-cluster"),
    channelEncryptionKeys: readEncryptionKeys(env, channelLayer),
    runWorkers: readChoice(env, "RUN_WORKERS", ["true", "false"] as const, "true") === "true",
    metrics: readChoice(env, "METRICS", ["true", "false"] as const, "true") === "true",
    metricsToken:
      readPattern(env, "METRICS_TOKEN", "", /^\S{16,200}$/, "16-200 characters, no spaces") || null,
    production,
    allowedOrigins: readOrigins(env),
    secretKey: readSecret(env, production),
    maxJsonDepth: readInteger(env, "MAX_JSON_DEPTH", 64, 1, 1000),
    limits: {
      maxFrameBytes: readInteger(env, "MAX_FRAME_BYTES", DEFAULT_LIMITS.maxFrameBytes, 1, 1024 ** 3),
      maxBufferedBytes: readInteger(
        env,
        "MAX_BUFFERED_BYTES",
        DEFAULT_LIMITS.maxBufferedBytes,
        1024,
        1024 ** 3,
      ),
      maxPendingBytes: readInteger(env, "MAX_PENDING_BYTES", DEFAULT_LIMITS.maxPendingBytes, 1024, 1024 ** 3),
      slowClientPolicy: readChoice(
        env,
        "SLOW_CLIENT_POLICY",
        ["close", "drop"] as const,
        DEFAULT_LIMITS.slowClientPolicy,
      ),
      maxMessagesPerSecond: readInteger(
        env,
        "MAX_MESSAGES_PER_SECOND",
        DEFAULT_LIMITS.maxMessagesPerSecond,
        0,
        1_000_000,
      ),
      maxConnections: readInteger(env, "MAX_CONNECTIONS", DEFAULT_LIMITS.maxConnections, 0, 10_000_000),
      maxBodyBytes: readInteger(env, "MAX_BODY_BYTES", DEFAULT_LIMITS.maxBodyBytes, 1, 1024 ** 3),
    },
  };
}

function readOrigins(env: Environment): string[] | null {
  const raw = env.ALLOWED_ORIGINS?.trim();
  if (raw === undefined || raw === "") return null;
  const entries = raw
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "");
  const bad = entries.find((entry) => !isValidOriginRule(entry));
  if (bad !== undefined) {
    throw new SettingsError(
      "ALLOWED_ORIGINS",
      `"${bad}" is not valid. Use origins such as https://app.example.com, *.example.com or *, separated by commas.`,
    );
  }
  return entries;
}

function readSecret(env: Environment, production: boolean): string {
  const raw = env.SECRET_KEY?.trim();
  if (raw === undefined || raw === "") {
    if (production)
      throw new SettingsError("SECRET_KEY", "is required when NODE_ENV=production (32+ random characters).");
    return crypto.randomUUID() + crypto.randomUUID(); // one per process, through getSettings()
  }
  if (raw.length < 32)
    throw new SettingsError("SECRET_KEY", "is too short. Use at least 32 random characters.");
  return raw;
}

function readInteger(env: Environment, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min || value > max) {
    throw new SettingsError(name, `"${raw}" is not valid. Use a whole number from ${min} to ${max}.`);
  }
  return value;
}

function readHost(env: Environment): string {
  const raw = env.HOST?.trim();
  if (raw === undefined || raw === "") return "0.0.0.0";
  if (!/^[\w.:-]+$/.test(raw)) {
    throw new SettingsError(
      "HOST",
      `"${raw}" is not valid. Use a host name or an IP address, such as 127.0.0.1.`,
    );
  }
  return raw;
}

function readRedisUrl(env: Environment): string {
  const raw = env.REDIS_URL?.trim();
  if (raw === undefined || raw === "") return "redis://127.0.0.1:6379";
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new SettingsError("REDIS_URL", `"${raw}" is not a URL. Use redis://host:port/db.`);
  }
  if (url.protocol !== "redis:" && url.protocol !== "rediss:") {
    throw new SettingsError("REDIS_URL", `"${raw}" is not valid. Use a redis:// or rediss:// URL.`);
  }
  return raw;
}

function readEncryptionKeys(env: Environment, channelLayer: Settings["channelLayer"]): string[] {
  const keys = (env.CHANNEL_ENCRYPTION_KEYS ?? "")
    .split(",")
    .map((key) => key.trim())
    .filter((key) => key !== "");
  if (keys.length > 0 && channelLayer !== "channels_redis") {
    throw new SettingsError(
      "CHANNEL_ENCRYPTION_KEYS",
      `only the channels_redis layer encrypts messages; CHANNEL_LAYER is ${channelLayer}. Remove the keys or use CHANNEL_LAYER=channels_redis.`,
    );
  }
  return keys;
}

/** `REDIS_CLUSTER_NODES`: `host:port` seeds, required by the redis-cluster layer. */
function readClusterNodes(env: Environment, required: boolean): string[] {
  const nodes = (env.REDIS_CLUSTER_NODES ?? "")
    .split(",")
    .map((node) => node.trim())
    .filter((node) => node !== "");
  if (nodes.length === 0 && required) {
    throw new SettingsError(
      "REDIS_CLUSTER_NODES",
      "not set, and CHANNEL_LAYER=redis-cluster needs it. Use host:port seeds, such as 10.0.0.5:6379,10.0.0.6:6379.",
    );
  }
  for (const node of nodes) {
    const port = Number(/:(\d{1,5})$/.exec(node)?.[1]);
    if (!/^([\w.-]+|\[[\da-fA-F:.]+\]):\d{1,5}$/.test(node) || port < 1 || port > 65535) {
      throw new SettingsError(
        "REDIS_CLUSTER_NODES",
        `"${node}" is not valid. Use host:port, such as 10.0.0.5:6379.`,
      );
    }
  }
  return nodes;
}

function readPattern(
  env: Environment,
  name: string,
  fallback: string,
  pattern: RegExp,
  rule: string,
): string {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === "") return fallback;
  if (!pattern.test(raw)) throw new SettingsError(name, `"${raw}" is not valid. Use ${rule}.`);
  return raw;
}

function readChoice<T extends string>(env: Environment, name: string, choices: readonly T[], fallback: T): T {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === "") return fallback;
  if (!choices.includes(raw as T)) {
    throw new SettingsError(name, `"${raw}" is not valid. Use one of: ${choices.join(", ")}.`);
  }
  return raw as T;
}
