/**
 * The settings of the redis-cluster layer (kept apart from settings.test.ts so that each layer's
 * settings read as one story): CHANNEL_LAYER=redis-cluster needs REDIS_CLUSTER_NODES, and a bad
 * seed stops startup naming the variable.
 */
import { describe, expect, it } from "bun:test";
import { SettingsError } from "../src/errors.ts";
import { parseClusterNodes } from "../src/layers/backplanes/redis-cluster-scripts.ts";
import { loadSettings } from "../src/settings.ts";

function settingsError(env: Record<string, string>): SettingsError {
  try {
    loadSettings(env);
  } catch (error) {
    if (error instanceof SettingsError) return error;
    throw error;
  }
  throw new Error("expected a SettingsError");
}

describe("REDIS_CLUSTER_NODES", () => {
  it("reads comma-separated host:port seeds, spaces and empty entries ignored", () => {
    const settings = loadSettings({
      CHANNEL_LAYER: "redis-cluster",
      REDIS_CLUSTER_NODES: " 10.0.0.5:6379, redis-b.internal:7001,,[::1]:7002 ",
    });
    expect(settings.channelLayer).toBe("redis-cluster");
    expect(settings.redisClusterNodes).toEqual(["10.0.0.5:6379", "redis-b.internal:7001", "[::1]:7002"]);
    expect(parseClusterNodes(settings.redisClusterNodes)).toEqual([
      { host: "10.0.0.5", port: 6379 },
      { host: "redis-b.internal", port: 7001 },
      { host: "::1", port: 7002 },
    ]);
  });

  it("is required by CHANNEL_LAYER=redis-cluster and optional otherwise", () => {
    expect(settingsError({ CHANNEL_LAYER: "redis-cluster" }).variable).toBe("REDIS_CLUSTER_NODES");
    expect(loadSettings({ CHANNEL_LAYER: "redis" }).redisClusterNodes).toEqual([]);
  });

  it.each(["redis://10.0.0.5:6379", "10.0.0.5", "10.0.0.5:0", "10.0.0.5:65536", "a b:6379"])(
    "refuses the seed %s with an error naming the variable",
    (node) => {
      const error = settingsError({ CHANNEL_LAYER: "redis-cluster", REDIS_CLUSTER_NODES: node });
      expect(error.code).toBe("INVALID_SETTING");
      expect(error.variable).toBe("REDIS_CLUSTER_NODES");
      expect(() => parseClusterNodes(node)).toThrow(TypeError);
    },
  );
});
