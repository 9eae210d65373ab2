/** `JsonConsumer` refuses frames nesting deeper than `maxJsonDepth` as it refuses invalid JSON. */
import { describe, expect, it } from "bun:test";
import {
  type ConsumerClass,
  getSettings,
  InMemoryChannelLayer,
  JsonConsumer,
  WebsocketCommunicator,
} from "../../src/index.ts";

const nested = (depth: number) => `${"[".repeat(depth)}${"]".repeat(depth)}`;

/** Echoes what it decodes, counting what reached `decodeJson` and `receiveJson`. */
class JsonEcho extends JsonConsumer {
  decoded = 0;
  received = 0;
  override decodeJson(text: string) {
    this.decoded++;
    return super.decodeJson(text);
  }
  override receiveJson(data: unknown) {
    this.received++;
    return this.sendJson(data);
  }
}

/** The same, allowing 3 levels only. */
class ShallowEcho extends JsonEcho {
  override maxJsonDepth = 3;
}

async function connected<C extends JsonEcho>(consumer: ConsumerClass<C>) {
  const communicator = new WebsocketCommunicator(consumer, { layer: new InMemoryChannelLayer() });
  expect((await communicator.connect()).accepted).toBe(true);
  return communicator;
}

describe("JsonConsumer depth limit", () => {
  it("defaults to the MAX_JSON_DEPTH setting", async () => {
    const communicator = await connected(JsonEcho);
    expect(getSettings().maxJsonDepth).toBeGreaterThan(0);
    expect(communicator.consumer.maxJsonDepth).toBe(getSettings().maxJsonDepth);
  });

  it("answers the 2,500-deep frame of issue 13 with INVALID_JSON and 1007, before decodeJson", async () => {
    const communicator = await connected(JsonEcho);
    await communicator.sendTo({ text: `{"type":"x","data":${nested(2500)}}` });
    expect(await communicator.receiveJsonFrom()).toMatchObject({ type: "error", code: "INVALID_JSON" });
    expect(await communicator.receiveClose()).toMatchObject({ code: 1007 });
    expect(communicator.consumer.decoded).toBe(0);
    expect(communicator.consumer.received).toBe(0);
    expect(communicator.errors).toEqual([]);
  });

  it("takes a frame at the limit and refuses one level more", async () => {
    const atLimit = await connected(ShallowEcho);
    await atLimit.sendTo({ text: '{"a":[{"b":1}]}' });
    expect(await atLimit.receiveJsonFrom()).toEqual({ a: [{ b: 1 }] });

    const over = await connected(ShallowEcho);
    await over.sendTo({ text: '{"a":[{"b":[]}]}' });
    expect(await over.receiveJsonFrom()).toMatchObject({ type: "error", code: "INVALID_JSON" });
    expect(await over.receiveClose()).toMatchObject({ code: 1007 });
    expect(over.consumer.received).toBe(0);
  });

  it("does not count brackets inside strings, escaped quotes included", async () => {
    const communicator = await connected(ShallowEcho);
    const data = { text: '[[[[{{{{ \\" [[[[ "', list: ["]]]]", "\\\\", "[[[["] };
    await communicator.sendJsonTo(data);
    expect(await communicator.receiveJsonFrom()).toEqual(data);
  });
});
