import { describe, expect, it } from "bun:test";
import { SettingsError } from "../src/errors.ts";
import { DEFAULT_LIMITS } from "../src/security/limits.ts";
import { getSettings, loadSettings } from "../src/settings.ts";
import { thrown } from "./_support/errors.ts";

describe("loadSettings()", () => {
  it("has safe defaults for an empty environment", () => {
    const settings = loadSettings({});
    expect(settings).toMatchObject({
      port: 8000,
      host: "0.0.0.0",
      logLevel: "info",
      logFormat: "text",
      shutdownTimeoutMs: 5000,
      channelLayer: "memory",
      layerOptions: { capacity: 100, expiry: 60, groupExpiry: 86_400 },
      redisUrl: "redis://127.0.0.1:6379",
      redisPrefix: "hc",
      production: false,
      allowedOrigins: null,
      maxJsonDepth: 64,
      limits: DEFAULT_LIMITS,
    });
  });

  it("reads LOG_FORMAT, text or json, and refuses anything else", () => {
    expect(loadSettings({ LOG_FORMAT: "json" }).logFormat).toBe("json");
    expect(loadSettings({ LOG_FORMAT: " text " }).logFormat).toBe("text");
    expect((thrown(() => loadSettings({ LOG_FORMAT: "xml" })) as SettingsError).variable).toBe("LOG_FORMAT");
  });

  it("reads MAX_JSON_DEPTH, from 1 to 1000", () => {
    expect(loadSettings({ MAX_JSON_DEPTH: "1" }).maxJsonDepth).toBe(1);
    expect(loadSettings({ MAX_JSON_DEPTH: "1000" }).maxJsonDepth).toBe(1000);
  });

  it("makes a random SECRET_KEY in development, and requires one in production", () => {
    expect(loadSettings({}).secretKey.length).toBeGreaterThanOrEqual(32);
    const error = thrown(() => loadSettings({ NODE_ENV: "production" }));
    expect((error as SettingsError).variable).toBe("SECRET_KEY");
    const key = "k".repeat(40);
    expect(loadSettings({ NODE_ENV: "production", SECRET_KEY: key })).toMatchObject({
      production: true,
      secretKey: key,
    });
  });

  it("reads ALLOWED_ORIGINS and the limits", () => {
    const settings = loadSettings({
      ALLOWED_ORIGINS: "https://app.example.com, *.example.org,*",
      MAX_FRAME_BYTES: "2048",
      MAX_BUFFERED_BYTES: "65536",
      SLOW_CLIENT_POLICY: "drop",
      MAX_MESSAGES_PER_SECOND: "50",
      MAX_CONNECTIONS: "1000",
    });
    expect(settings.allowedOrigins).toEqual(["https://app.example.com", "*.example.org", "*"]);
    expect(settings.limits).toEqual({
      maxFrameBytes: 2048,
      maxBufferedBytes: 65_536,
      slowClientPolicy: "drop",
      maxPendingBytes: DEFAULT_LIMITS.maxPendingBytes,
      maxMessagesPerSecond: 50,
      maxConnections: 1000,
      maxBodyBytes: DEFAULT_LIMITS.maxBodyBytes,
    });
  });

  it("reads PORT, HOST, LOG_LEVEL and SHUTDOWN_TIMEOUT_MS", () => {
    const settings = loadSettings({
      PORT: "0",
      HOST: "127.0.0.1",
      LOG_LEVEL: "warn",
      SHUTDOWN_TIMEOUT_MS: "250",
    });
    expect(settings).toMatchObject({ port: 0, host: "127.0.0.1", logLevel: "warn", shutdownTimeoutMs: 250 });
  });

  it("reads the channel layer settings", () => {
    const settings = loadSettings({
      CHANNEL_LAYER: "memory",
      CHANNEL_CAPACITY: "5",
      CHANNEL_EXPIRY: "2",
      GROUP_EXPIRY: "3",
    });
    expect(settings.layerOptions).toEqual({ capacity: 5, expiry: 2, groupExpiry: 3 });
  });

  it("shares channels_redis's defaults with CHANNEL_LAYER=channels_redis: prefix asgi, and encryption keys", () => {
    expect(loadSettings({}).redisPrefix).toBe("hc");
    const settings = loadSettings({
      CHANNEL_LAYER: "channels_redis",
      CHANNEL_ENCRYPTION_KEYS: "new key, old key",
    });
    expect(settings.redisPrefix).toBe("asgi");
    expect(settings.channelEncryptionKeys).toEqual(["new key", "old key"]);
    expect(loadSettings({ CHANNEL_LAYER: "channels_redis", REDIS_PREFIX: "shared:" }).redisPrefix).toBe(
      "shared:",
    );
  });

  it("refuses encryption keys for a layer that would not encrypt", () => {
    expect(() => loadSettings({ CHANNEL_LAYER: "redis", CHANNEL_ENCRYPTION_KEYS: "secret" })).toThrow(
      /CHANNEL_ENCRYPTION_KEYS: only the channels_redis layer encrypts/,
    );
  });

  it.each([
    ["PORT", "abc"],
    ["PORT", "65536"],
    ["PORT", "-1"],
    ["PORT", "80.5"],
    ["HOST", "not a host"],
    ["LOG_LEVEL", "loud"],
    ["SHUTDOWN_TIMEOUT_MS", "soon"],
    ["CHANNEL_LAYER", "postgres"],
    ["CHANNEL_CAPACITY", "0"],
    ["CHANNEL_EXPIRY", "1m"],
    ["GROUP_EXPIRY", "-5"],
    ["REDIS_URL", "localhost:6379"],
    ["REDIS_URL", "http://localhost:6379"],
    ["REDIS_PREFIX", "has space"],
    ["ALLOWED_ORIGINS", "https://ok.example, not a url"],
    ["SECRET_KEY", "too-short"],
    ["MAX_FRAME_BYTES", "0"],
    ["SLOW_CLIENT_POLICY", "ignore"],
    ["MAX_JSON_DEPTH", "0"],
    ["MAX_JSON_DEPTH", "1001"],
    ["MAX_JSON_DEPTH", "deep"],
  ])("refuses %s=%s with an error naming the variable", (variable, value) => {
    let error: unknown;
    try {
      loadSettings({ [variable]: value });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(SettingsError);
    expect((error as SettingsError).code).toBe("INVALID_SETTING");
    expect((error as SettingsError).variable).toBe(variable);
    expect((error as SettingsError).message).toContain(variable);
  });
});

describe("getSettings()", () => {
  it("reads the environment once: every caller gets the same settings and the same development key", () => {
    const first = getSettings();
    expect(getSettings()).toBe(first);
    // loadSettings() reads anew each time (a new development key): getSettings() is what agrees.
    if (!process.env.SECRET_KEY) expect(loadSettings({}).secretKey).not.toBe(first.secretKey);
    const before = process.env.PORT;
    process.env.PORT = String(first.port === 1234 ? 1235 : 1234);
    try {
      expect(getSettings().port).toBe(first.port);
    } finally {
      if (before === undefined) delete process.env.PORT;
      else process.env.PORT = before;
    }
  });
});
