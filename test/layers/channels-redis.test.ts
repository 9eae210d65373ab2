import { expect, it } from "bun:test";
import { ChannelsRedisBackplane } from "../../src/layers/backplanes/channels-redis.ts";
import { ChannelsRedisLayer } from "../../src/layers/channels-redis.ts";
import { waitUntilUp } from "../../src/layers/layer.ts";
import { describeWithRedis } from "../_support/redis.ts";
import { backplaneContract } from "./backplane-contract.ts";
import { layerContract } from "./contract.ts";

describeWithRedis("ChannelsRedisLayer", ({ url }) => {
  it("keeps a join behind the group sends made before it (ioredis writes a MULTI ahead of its pipeline)", async () => {
    const layer = new ChannelsRedisLayer({ url: url(), prefix: `test-${crypto.randomUUID()}:` });
    try {
      await waitUntilUp(layer);
      await layer.groupAdd("desk", "desk.staying");
      // None awaited before the next is made: the order of the calls is all that orders them.
      await Promise.all([
        layer.groupSend("desk", { type: "desk.note", n: 1 }),
        layer.groupAdd("desk", "desk.joining"),
        layer.groupSend("desk", { type: "desk.note", n: 2 }),
      ]);
      expect(await layer.receive("desk.joining")).toEqual({ type: "desk.note", n: 2 });
      expect(await layer.receive("desk.staying")).toEqual({ type: "desk.note", n: 1 });
    } finally {
      await layer.close();
    }
  });

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
