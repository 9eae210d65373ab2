/**
 * What the channels_redis wire backplane does with what it cannot read or must refuse: garbage in
 * its inbox, a message encrypted with another key, a message naming its own destination, and
 * Fernet tokens that are tampered with or too old.
 */
import { afterEach, describe, expect, it } from "bun:test";
import Redis from "ioredis";
import { InvalidMessageError } from "../../src/errors.ts";
import { Fernet, InvalidTokenError } from "../../src/layers/backplanes/fernet.ts";
import { ChannelsRedisLayer } from "../../src/layers/channels-redis.ts";
import { waitUntilUp } from "../../src/layers/layer.ts";
import type { Logger } from "../../src/log.ts";
import { describeWithRedis } from "../_support/redis.ts";

/** A logger keeping its error lines. */
function recorder(): Logger & { errors: string[] } {
  const errors: string[] = [];
  return { errors, debug() {}, info() {}, warn() {}, error: (message: string) => void errors.push(message) };
}

describeWithRedis("channels_redis wire: bad input", ({ url }) => {
  const open: Array<{ close(): unknown }> = [];
  afterEach(async () => {
    for (const item of open.splice(0)) await item.close();
  });

  const layerWith = async (prefix: string, options: { encryptionKeys?: string[]; logger?: Logger } = {}) => {
    const layer = new ChannelsRedisLayer({ url: url(), prefix, ...options });
    open.push(layer);
    await waitUntilUp(layer);
    return layer;
  };

  it("logs and skips garbage in its inbox, and goes on delivering", async () => {
    const prefix = `test-${crypto.randomUUID()}:`;
    const logger = recorder();
    const layer = await layerWith(prefix, { logger });
    const channel = await layer.newChannel();
    const raw = new Redis(url());
    open.push({ close: () => raw.quit() });
    const inbox = prefix + channel.slice(0, channel.indexOf("!") + 1);
    await raw.zadd(inbox, Date.now() / 1000, Buffer.from("twelve bytes\xc1 not msgpack"));
    const sender = await layerWith(prefix);
    await sender.send(channel, { type: "after.garbage" });
    expect(await layer.receive(channel, { signal: AbortSignal.timeout(5000) })).toEqual({
      type: "after.garbage",
    });
    expect(logger.errors).toEqual(["channels_redis layer: unreadable message"]);
  });

  it("drops a message encrypted with a key it does not hold, logging it", async () => {
    const prefix = `test-${crypto.randomUUID()}:`;
    const logger = recorder();
    const reader = await layerWith(prefix, { encryptionKeys: ["ours"], logger });
    const stranger = await layerWith(prefix, { encryptionKeys: ["someone else's"] });
    const friend = await layerWith(prefix, { encryptionKeys: ["ours"] });
    await stranger.send("jobs", { type: "unreadable" });
    // Scores are send times: a later millisecond puts the readable one behind the unreadable one.
    await new Promise((resolve) => setTimeout(resolve, 5));
    await friend.send("jobs", { type: "readable" });
    expect(await reader.receive("jobs", { signal: AbortSignal.timeout(5000) })).toEqual({ type: "readable" });
    expect(logger.errors).toEqual(["channels_redis layer: unreadable message"]);
  });

  it("keeps numbers what they are: exact integers as integers, anything larger as floats, never wrapped", async () => {
    const prefix = `test-${crypto.randomUUID()}:`;
    const [a, b] = [await layerWith(prefix), await layerWith(prefix)];
    const numbers = {
      small: 7,
      big: 2 ** 40,
      safe: Number.MAX_SAFE_INTEGER,
      huge: 1e20,
      negative: -1e19,
      max: Number.MAX_VALUE,
      half: 0.5,
    };
    await a.send("numbers", { type: "numbers", ...numbers });
    expect(await b.receive("numbers", { signal: AbortSignal.timeout(5000) })).toEqual({
      type: "numbers",
      ...numbers,
    });
  });

  it("refuses a Date, which Django could not turn into JSON, with a clear error", async () => {
    const layer = await layerWith(`test-${crypto.randomUUID()}:`);
    await expect(layer.send("jobs", { type: "dated", at: new Date() })).rejects.toThrow(
      /A Date cannot cross to Django/,
    );
  });

  it("refuses a message that holds __asgi_channel__, the key the wire uses for its destination", async () => {
    const layer = await layerWith(`test-${crypto.randomUUID()}:`);
    const message = { type: "sneaky", __asgi_channel__: "specific.other!x" };
    await expect(layer.send("jobs", message)).rejects.toBeInstanceOf(InvalidMessageError);
    await expect(layer.groupSend("room", message)).rejects.toBeInstanceOf(InvalidMessageError);
  });
});

describe("Fernet", () => {
  const fernet = new Fernet(["key"]);
  const data = new TextEncoder().encode("hello");

  it("opens its own tokens, and a token of any of its keys (rotation)", () => {
    expect(new TextDecoder().decode(fernet.decrypt(fernet.encrypt(data), 60))).toBe("hello");
    const rotated = new Fernet(["new key", "key"]);
    expect(new TextDecoder().decode(rotated.decrypt(fernet.encrypt(data), 60))).toBe("hello");
  });

  it("refuses a tampered token, another key's token, an expired one and one from the future", () => {
    const token = fernet.encrypt(data, 1000);
    const raw = Buffer.from(token.toString(), "base64url");
    raw[30] = raw[30]! ^ 1;
    const tampered = Buffer.from(raw.toString("base64url"));
    expect(() => fernet.decrypt(tampered, 60, 1000)).toThrow(InvalidTokenError);
    expect(() => new Fernet(["other"]).decrypt(token, 60, 1000)).toThrow(/another key/);
    expect(() => fernet.decrypt(token, 60, 1061)).toThrow(/expired/);
    expect(() => fernet.decrypt(token, 60, 900)).toThrow(/future/);
    expect(() => fernet.decrypt(Buffer.from("not a token"), 60)).toThrow(/not a Fernet token/);
  });
});
