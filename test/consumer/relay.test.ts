import { describe, expect, it } from "bun:test";
import { relayText, relayTypes } from "../../src/consumer/relay.ts";
import {
  Consumer,
  DispatchError,
  InMemoryChannelLayer,
  JsonConsumer,
  WebsocketCommunicator,
} from "../../src/index.ts";
import { Hub } from "../../src/layers/hub.ts";
import type { ChannelSink, FanOut, Message } from "../../src/layers/layer.ts";

describe("static relays", () => {
  class News extends Consumer {
    static override relays = ["news.item"];
    override groups = ["news"];
    override async connect() {
      // Sent to its own group before the handshake is decided: relayed once connect() is done.
      await this.channelLayer.groupSend("news", { type: "news.item", n: 0 });
      await this.accept();
      // Accepted, but a relay still waits in the queue: this one waits behind it, in order.
      await this.channelLayer.groupSend("news", { type: "news.item", n: 0.5 });
      await this.send({ text: "welcome" });
    }
    other(event: { n: number }) {
      return this.send({ text: `handled ${event.n}` });
    }
  }

  it("writes a relayed type as its JSON without a handler; other types still run theirs", async () => {
    const layer = new InMemoryChannelLayer();
    const client = new WebsocketCommunicator(News, { layer });
    await client.connect();
    expect((await client.receiveFrom()).text).toBe("welcome");
    expect((await client.receiveFrom()).text).toBe('{"type":"news.item","n":0}');
    expect((await client.receiveFrom()).text).toBe('{"type":"news.item","n":0.5}');
    await layer.groupSend("news", { type: "news.item", n: 1, nested: { a: [1, "b"] } });
    await layer.groupSend("news", { type: "other", n: 2 });
    expect((await client.receiveFrom()).text).toBe('{"type":"news.item","n":1,"nested":{"a":[1,"b"]}}');
    expect((await client.receiveFrom()).text).toBe("handled 2");
    expect(client.errors).toEqual([]);
    await client.disconnect();
  });

  it("sends nothing once the connection is closing or gone", async () => {
    const layer = new InMemoryChannelLayer();
    const client = new WebsocketCommunicator(News, { layer });
    await client.connect();
    for (let i = 0; i < 3; i++) await client.receiveFrom();
    await client.disconnect();
    await layer.groupSend("news", { type: "news.item", n: 3 });
    expect(await client.receiveNothing(50)).toBe(true);
  });

  it("is refused when a relayed type also has a handler or is not a message type, or the class encodes JSON its own way", () => {
    class Both extends Consumer {
      static override relays = ["chat.message"];
      chatMessage() {}
    }
    class Invalid extends Consumer {
      static override relays = ["not a type"];
    }
    class NotAnArray extends Consumer {
      static override relays = "chat.message" as unknown as string[];
    }
    class OwnEncoding extends JsonConsumer {
      static override relays = ["chat.message"];
      override encodeJson(data: unknown) {
        return `tagged:${JSON.stringify(data)}`;
      }
    }
    expect(() => relayTypes(OwnEncoding)).toThrow(/overrides encodeJson\(\)/);
    expect(() => relayTypes(Both)).toThrow(/relays "chat.message".*chatMessage\(\), which would never run/);
    expect(() => relayTypes(Invalid)).toThrow(DispatchError);
    expect(() => relayTypes(NotAnArray)).toThrow(/must be an array of message types/);
    expect([...relayTypes(News)]).toEqual(["news.item"]);
  });

  it("encodes a message once, whatever the members; the text is not part of the message", () => {
    const message = { type: "news.item", n: 1 };
    expect(relayText(message)).toBe('{"type":"news.item","n":1}');
    expect(relayText(message)).toBe(relayText(message));
    expect(Object.keys(message)).toEqual(["type", "n"]);
    expect(JSON.stringify(message)).toBe('{"type":"news.item","n":1}');
  });
});

describe("Hub and a runtime's fan-out", () => {
  /** A sink the runtime's fan-out reaches for groups in `native`, recording what else it got. */
  function sink(native: Set<string>, fanOut: FanOut) {
    const pushed: Message[] = [];
    const left: string[] = [];
    const channelSink: ChannelSink = {
      backlog: 0,
      push: (message) => void pushed.push(message),
      fanOutFor: (group) => (native.has(group) ? fanOut : null),
      left: (group) => void left.push(group),
    };
    return { channelSink, pushed, left };
  }

  it("leaves the members a fan-out reaches to one publish, and pushes to the others", () => {
    const published: Array<[string, Message, number]> = [];
    const fanOut: FanOut = {
      publish: (group, message, members) => void published.push([group, message, members]),
    };
    const hub = new Hub();
    const native = [sink(new Set(["room"]), fanOut), sink(new Set(["room"]), fanOut)];
    const plain = sink(new Set(), fanOut);
    for (const [i, member] of [...native, plain].entries()) {
      hub.listen(`c${i}`, member.channelSink);
      hub.join("room", `c${i}`);
    }
    const message = { type: "news.item", n: 1 };
    hub.groupSend("room", message);
    expect(published).toEqual([["room", message, 2]]);
    expect(native.map((member) => member.pushed.length)).toEqual([0, 0]);
    expect(plain.pushed).toEqual([message]);
  });

  it("tells a sink when the layer takes it out of a group (a leave, a flush)", () => {
    const hub = new Hub();
    const member = sink(new Set(), { publish() {} });
    hub.listen("c", member.channelSink);
    hub.join("a", "c");
    hub.join("b", "c");
    hub.leave("a", "c");
    hub.leave("a", "c"); // not a member any more: nothing to tell
    hub.flush();
    expect(member.left).toEqual(["a", "b"]);
  });
});
