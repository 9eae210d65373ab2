import { ChannelsRedisBackplane } from "../../src/layers/backplanes/channels-redis.ts";
import { ChannelsRedisLayer } from "../../src/layers/channels-redis.ts";
import { waitUntilUp } from "../../src/layers/layer.ts";
import { describeWithRedis } from "../_support/redis.ts";
import { backplaneContract } from "./backplane-contract.ts";
import { layerContract } from "./contract.ts";

describeWithRedis("ChannelsRedisLayer", ({ url }) => {
  for (const encryptionKeys of [[], ["first secret", "older secret"]]) {
    const variant = encryptionKeys.length > 0 ? "ChannelsRedisLayer, encrypted" : "ChannelsRedisLayer";
    layerContract(variant, async (options) => {
      const layer = new ChannelsRedisLayer({
        ...options,
        url: url(),
        prefix: `test-${crypto.randomUUID()}:`,
        encryptionKeys,
      });
      await waitUntilUp(layer);
      return layer;
    });

    backplaneContract(variant.replace("Layer", "Backplane"), () => {
      const prefix = `test-${crypto.randomUUID()}:`;
      return {
        connect: (options) => new ChannelsRedisBackplane({ ...options, url: url(), prefix, encryptionKeys }),
      };
    });
  }
});
