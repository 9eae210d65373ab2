/**
 * The cluster layer and backplane run the same contract suites as every layer, on a private
 * 3-primary Redis Cluster started once for this file; each layer gets its own key prefix.
 */
import { RedisClusterBackplane } from "../../src/layers/backplanes/redis-cluster.ts";
import { waitUntilUp } from "../../src/layers/layer.ts";
import { RedisClusterChannelLayer } from "../../src/layers/redis-cluster.ts";
import { describeWithRedisCluster } from "../_support/redis-cluster.ts";
import { backplaneContract } from "./backplane-contract.ts";
import { layerContract } from "./contract.ts";

describeWithRedisCluster("RedisClusterChannelLayer", ({ cluster }) => {
  layerContract("RedisClusterChannelLayer", async (options) => {
    const layer = new RedisClusterChannelLayer({
      ...options,
      nodes: cluster().nodes,
      prefix: `test-${crypto.randomUUID()}`,
    });
    await waitUntilUp(layer);
    return layer;
  });

  // Processes of one test share a prefix, as the processes of one app do.
  backplaneContract("RedisClusterBackplane", () => {
    const prefix = `test-${crypto.randomUUID()}`;
    return {
      connect: (options) => new RedisClusterBackplane({ ...options, nodes: cluster().nodes, prefix }),
    };
  });
});
