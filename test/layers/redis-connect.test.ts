/**
 * A Redis layer used the moment it is made: its first calls wait for the first connection
 * (bounded by `connectTimeoutMs`), then fail clearly if Redis never answered.
 */
import { afterEach, expect, it } from "bun:test";
import { LayerUnavailableError } from "../../src/errors.ts";
import { RedisChannelLayer } from "../../src/layers/redis.ts";
import { describeWithRedis, freePort } from "../_support/redis.ts";

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

describeWithRedis("RedisChannelLayer before its first connection", ({ url }) => {
  const open: RedisChannelLayer[] = [];
  afterEach(async () => {
    for (const layer of open.splice(0)) await layer.close();
  });
  const layerFor = (options: ConstructorParameters<typeof RedisChannelLayer>[0]) => {
    const layer = new RedisChannelLayer({ prefix: `test-${crypto.randomUUID()}`, logger: quiet, ...options });
    open.push(layer);
    return layer;
  };

  it("runs send, groupAdd, groupSend and flush made right after new, without waiting for status", async () => {
    const layer = layerFor({ url: url() });
    expect(layer.status).toBe("connecting");
    const channel = await layer.newChannel();
    const arrived: unknown[] = [];
    layer.listen(channel, { push: (message) => void arrived.push(message), backlog: 0 });
    await layer.send("jobs", { type: "job", n: 1 });
    await layer.groupAdd("room", channel);
    await layer.groupSend("room", { type: "hello" });
    expect(await layer.receive("jobs")).toEqual({ type: "job", n: 1 });
    await layer.flush();
    expect(layer.status).toBe("up");
    for (let i = 0; i < 100 && arrived.length === 0; i++) await Bun.sleep(10);
    expect(arrived).toEqual([{ type: "hello" }]);
  });

  it("fails the first calls with LAYER_UNAVAILABLE after connectTimeoutMs when Redis never answers", async () => {
    const nobody = `redis://127.0.0.1:${await freePort()}`;
    const layer = layerFor({ url: nobody, connectTimeoutMs: 300 });
    const started = performance.now();
    const error = await layer.send("jobs", { type: "job" }).catch((caught: unknown) => caught);
    const waited = performance.now() - started;
    expect(error).toBeInstanceOf(LayerUnavailableError);
    expect((error as LayerUnavailableError).code).toBe("LAYER_UNAVAILABLE");
    expect((error as Error).message).toContain("within 300 ms");
    // It waited for the connection (not the instant "Stream isn't writeable"), and not much longer.
    expect(waited).toBeGreaterThanOrEqual(250);
    expect(waited).toBeLessThan(2000);
  });
});
