import { RedisBackplane } from "../../src/layers/backplanes/redis.ts";
import { waitUntilUp } from "../../src/layers/layer.ts";
import { RedisChannelLayer } from "../../src/layers/redis.ts";
import { describeWithRedis } from "../_support/redis.ts";
import { backplaneContract } from "./backplane-contract.ts";
import { layerContract } from "./contract.ts";

describeWithRedis("RedisChannelLayer", ({ url }) => {
  layerContract("RedisChannelLayer", async (options) => {
    // A fresh prefix per layer: tests never see each other's keys, even on a shared Redis.
    const layer = new RedisChannelLayer({ ...options, url: url(), prefix: `test-${crypto.randomUUID()}` });
    await waitUntilUp(layer);
    return layer;
  });

  // Processes of one test share a prefix, as the processes of one app do.
  backplaneContract("RedisBackplane", () => {
    const prefix = `test-${crypto.randomUUID()}`;
    return { connect: (options) => new RedisBackplane({ ...options, url: url(), prefix }) };
  });
});
