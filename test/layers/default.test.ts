/**
 * The process-wide layer outside the server: `getChannelLayer()` never hands out a memory layer
 * when the settings name another one, and `createChannelLayer()` builds what they name. Each case
 * runs in a fresh process, since settings are read once per process.
 */
import { describe, expect, it } from "bun:test";
import { join } from "node:path";
import { describeWithRedis } from "../_support/redis.ts";

const src = join(import.meta.dir, "..", "..", "src");

/** Runs `script` in a fresh Bun process with `env`; resolves with what it printed. */
async function run(script: string, env: Record<string, string>, cwd?: string): Promise<string> {
  const child = Bun.spawn(["bun", "-e", script], {
    cwd,
    env: { ...process.env, ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
  ]);
  await child.exited;
  return out.trim() + err.trim();
}

describe("getChannelLayer() outside the server", () => {
  it("makes an in-memory layer with CHANNEL_LAYER=memory", async () => {
    const script = `const { getChannelLayer, InMemoryChannelLayer } = await import(${JSON.stringify(join(src, "index.ts"))});
      console.log(getChannelLayer() instanceof InMemoryChannelLayer, getChannelLayer() === getChannelLayer());`;
    expect(await run(script, { CHANNEL_LAYER: "memory" })).toBe("true true");
  });

  it("refuses with LAYER_NOT_READY when CHANNEL_LAYER=redis and no layer is installed", async () => {
    const script = `const { getChannelLayer } = await import(${JSON.stringify(join(src, "index.ts"))});
      try { getChannelLayer(); console.log("no error"); } catch (error) { console.log(error.name, error.code); }`;
    expect(await run(script, { CHANNEL_LAYER: "redis" })).toBe("LayerNotReadyError LAYER_NOT_READY");
  });

  it("lets `npm run routes` import modules that take the layer at load time, whatever CHANNEL_LAYER says", async () => {
    // The fixture app's api/announce.ts calls getChannelLayer() at its top level.
    const fixture = join(import.meta.dir, "..", "fixtures", "server-app");
    const child = Bun.spawn(["bun", join(src, "cli", "routes.ts")], {
      cwd: fixture,
      env: { ...process.env, CHANNEL_LAYER: "redis", REDIS_URL: "redis://127.0.0.1:1" },
      stdout: "pipe",
      stderr: "pipe",
    });
    const out = await new Response(child.stdout).text();
    expect(await child.exited).toBe(0);
    expect(out).toContain("/api/announce");
  });
});

describeWithRedis("createChannelLayer()", ({ url }) => {
  it("builds the Redis layer the settings name, and getChannelLayer() returns it once installed", async () => {
    const script = `const { createChannelLayer, setChannelLayer } = await import(${JSON.stringify(join(src, "integration.ts"))});
      const { getChannelLayer } = await import(${JSON.stringify(join(src, "index.ts"))});
      const layer = await createChannelLayer();
      setChannelLayer(layer);
      await getChannelLayer().send("default-test", { type: "ping" });
      console.log(layer.constructor.name, getChannelLayer() === layer, (await layer.receive("default-test")).type);
      await layer.close();`;
    const prefix = `test-${crypto.randomUUID()}`;
    expect(await run(script, { CHANNEL_LAYER: "redis", REDIS_URL: url(), REDIS_PREFIX: prefix })).toBe(
      "RedisChannelLayer true ping",
    );
  });

  it("builds the channels_redis layer with CHANNEL_LAYER=channels_redis", async () => {
    const script = `const { createChannelLayer } = await import(${JSON.stringify(join(src, "integration.ts"))});
      const layer = await createChannelLayer();
      await layer.send("default-test", { type: "ping" });
      console.log(layer.constructor.name, (await layer.receive("default-test")).type);
      await layer.close();`;
    const prefix = `test-${crypto.randomUUID()}:`;
    const env = {
      CHANNEL_LAYER: "channels_redis",
      REDIS_URL: url(),
      REDIS_PREFIX: prefix,
      CHANNEL_ENCRYPTION_KEYS: "k",
    };
    expect(await run(script, env)).toBe("ChannelsRedisLayer ping");
  });
});
