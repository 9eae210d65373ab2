import { describe, expect, it } from "bun:test";
import { noteCopy, sharedJson } from "../../src/consumer/shared-json.ts";
import { InMemoryChannelLayer, JsonConsumer, WebsocketCommunicator } from "../../src/index.ts";
import { copyMessage } from "../../src/layers/codec.ts";

describe("sharedJson()", () => {
  const source = () => ({ type: "chat.message", user: "ana", text: "hi" });

  it("gives the source's text for the copy just handed out, unchanged", () => {
    const message = source();
    const copy = copyMessage(message);
    noteCopy(copy, message);
    expect(sharedJson(copy)).toBe(JSON.stringify(message));
  });

  it("encodes nothing for a copy that was changed, extended, reordered or is another object", () => {
    const message = source();
    const changed = copyMessage(message);
    noteCopy(changed, message);
    changed.text = "changed";
    expect(sharedJson(changed)).toBeUndefined();

    const extended: Record<string, unknown> = copyMessage(message);
    noteCopy(extended, message);
    extended.extra = 1;
    expect(sharedJson(extended)).toBeUndefined();

    const reordered: Record<string, unknown> = copyMessage(message);
    noteCopy(reordered, message);
    delete reordered.user;
    reordered.user = "ana";
    expect(sharedJson(reordered)).toBeUndefined();

    noteCopy(copyMessage(message), message);
    expect(sharedJson(source())).toBeUndefined();
  });

  it("encodes nothing for a message with nested values", () => {
    const message = { type: "x", list: [1, 2] };
    const copy = copyMessage(message);
    noteCopy(copy, message);
    expect(sharedJson(copy)).toBeUndefined();
  });
});

describe("JsonConsumer members relaying one group message", () => {
  class Relay extends JsonConsumer {
    override groups = ["room"];
    chatMessage(event: { text: string }) {
      return this.sendJson(event);
    }
  }
  class Shouter extends Relay {
    override chatMessage(event: { text: string }) {
      event.text = event.text.toUpperCase();
      return this.sendJson(event);
    }
  }
  class Tagged extends Relay {
    override encodeJson(data: unknown) {
      return `tagged:${JSON.stringify(data)}`;
    }
  }

  it("each send what their own handler made of it, whatever order they run in", async () => {
    const layer = new InMemoryChannelLayer();
    const members = [
      new WebsocketCommunicator(Relay, { layer }),
      new WebsocketCommunicator(Shouter, { layer }),
      new WebsocketCommunicator(Relay, { layer }),
      new WebsocketCommunicator(Tagged, { layer }),
    ];
    for (const member of members) await member.connect();
    await layer.groupSend("room", { type: "chat.message", text: "hi" });
    const texts = await Promise.all(members.map(async (member) => (await member.receiveFrom()).text));
    expect(texts).toEqual([
      '{"type":"chat.message","text":"hi"}',
      '{"type":"chat.message","text":"HI"}',
      '{"type":"chat.message","text":"hi"}',
      'tagged:{"type":"chat.message","text":"hi"}',
    ]);
  });
});
