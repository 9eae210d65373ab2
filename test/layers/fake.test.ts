import { DeliveryLayer } from "../../src/layers/delivery.ts";
import { FakeBackplane, FakeBus } from "./_fake-backplane.ts";
import { backplaneContract } from "./backplane-contract.ts";
import { layerContract } from "./contract.ts";

layerContract("DeliveryLayer on the fake backplane", (options) => {
  const bus = new FakeBus();
  return new DeliveryLayer(options, new FakeBackplane(bus, options));
});

backplaneContract(
  "FakeBackplane",
  () => {
    const bus = new FakeBus();
    return {
      connect: (options) => new FakeBackplane(bus, options),
      outage: { down: async () => bus.down(), restore: async () => bus.restore() },
    };
  },
  true,
);
