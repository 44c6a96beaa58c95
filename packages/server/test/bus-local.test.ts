import { LocalBus } from "../src/bus/local-bus.js";
import { busContract } from "./bus-contract.js";

// One process: publisher and subscriber are the same bus.
busContract("local", async (t) => {
  const bus = new LocalBus();
  t.after(() => bus.close());
  return { publisher: bus, subscriber: bus };
});
