import { describe, expect, it } from "bun:test";
import ChatRoom from "../../consumers/chat/[room].ts";
import LiveDashboard, { LIVE_GROUP } from "../../consumers/live.ts";
import { ConsumerRunner } from "../../src/consumer/runner.ts";
import { createScope } from "../../src/consumer/scope.ts";
import {
  type CommunicatorOptions,
  ConnectionClosed,
  Consumer,
  type ConsumerClass,
  createLogger,
  DispatchError,
  type Frame,
  InMemoryChannelLayer,
  JsonConsumer,
  WebsocketCommunicator,
} from "../../src/index.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A communicator on a fresh layer unless one is given. */
function communicatorFor<C extends Consumer>(consumer: ConsumerClass<C>, options: CommunicatorOptions = {}) {
  const layer = (options.layer as InMemoryChannelLayer | undefined) ?? new InMemoryChannelLayer();
  return { communicator: new WebsocketCommunicator(consumer, { ...options, layer }), layer };
}

/** A communicator already connected and accepted. */
async function connected<C extends Consumer>(consumer: ConsumerClass<C>, options: CommunicatorOptions = {}) {
  const opened = communicatorFor(consumer, options);
  expect((await opened.communicator.connect()).accepted).toBe(true);
  return opened;
}

/** A consumer whose connect() runs `decide`. */
function deciding(decide: (consumer: Consumer) => void | Promise<void>) {
  return class extends Consumer {
    override connect() {
      return decide(this);
    }
  };
}

/** Echoes frames, remembers what it received and every disconnect code. */
class Echo extends Consumer {
  received: Frame[] = [];
  disconnects: number[] = [];
  override async receive(frame: Frame) {
    this.received.push(frame);
    await this.send(frame);
  }
  override disconnect(code: number) {
    this.disconnects.push(code);
  }
}

describe("Consumer lifecycle", () => {
  it("accepts, echoes text and bytes, and calls disconnect(code)", async () => {
    const { communicator } = await connected(Echo);
    await communicator.sendTo({ text: "hello" });
    expect(await communicator.receiveFrom()).toEqual({ text: "hello" });
    await communicator.sendTo({ bytes: new Uint8Array([1, 2, 3]) });
    expect(await communicator.receiveFrom()).toEqual({ bytes: new Uint8Array([1, 2, 3]) });
    expect(communicator.consumer.received).toEqual([{ text: "hello" }, { bytes: new Uint8Array([1, 2, 3]) }]);
    await communicator.disconnect();
    expect(communicator.consumer.disconnects).toEqual([1000]);
  });

  it("works for a consumer whose constructor returns a Proxy of itself", async () => {
    const calls: string[] = [];
    class Watched extends Echo {
      constructor(scope: ConstructorParameters<typeof Consumer>[0]) {
        super(scope);
        // biome-ignore lint/correctness/noConstructorReturn: a user may wrap an instance like this
        return new Proxy(this, {
          get(target, key, receiver) {
            if (typeof key === "string") calls.push(key);
            return Reflect.get(target, key, receiver);
          },
        });
      }
    }
    const { communicator } = await connected(Watched);
    await communicator.sendTo({ text: "through the proxy" });
    expect(await communicator.receiveFrom()).toEqual({ text: "through the proxy" });
    expect(calls).toContain("receive");
    await communicator.disconnect();
  });

  it("gives each connection its own scope.path", async () => {
    class PathEcho extends Consumer {
      override receive() {
        return this.send({ text: this.scope.path });
      }
    }
    const layer = new InMemoryChannelLayer();
    const { communicator: first } = await connected(PathEcho, { path: "/testing/", layer });
    const { communicator: second } = await connected(PathEcho, { path: "/other/", layer });
    await second.sendTo({ text: "?" });
    await first.sendTo({ text: "?" });
    expect(await first.receiveFrom()).toEqual({ text: "/testing/" });
    expect(await second.receiveFrom()).toEqual({ text: "/other/" });
  });

  it("reports the subprotocol accept() chose", async () => {
    const Sub = deciding((consumer) => consumer.accept({ subprotocol: "subprotocol2" }));
    const { communicator } = communicatorFor(Sub, { subprotocols: ["subprotocol1", "subprotocol2"] });
    expect(await communicator.connect()).toMatchObject({ accepted: true, subprotocol: "subprotocol2" });
  });

  it("resolves start() with the headers given to accept()", async () => {
    const WithHeaders = deciding((consumer) => consumer.accept({ headers: { foo: "bar" } }));
    const runner = new ConsumerRunner(WithHeaders, createScope("/"), {
      layer: new InMemoryChannelLayer(),
      logger: createLogger("silent"),
    });
    expect(await runner.start()).toEqual({ accepted: true, subprotocol: null, headers: { foo: "bar" } });
  });

  it("closes with the code and reason given to close() after accept()", async () => {
    const CloseReason = deciding(async (consumer) => {
      await consumer.accept();
      await consumer.close({ code: 4007, reason: "test reason" });
    });
    const { communicator } = await connected(CloseReason);
    expect(await communicator.receiveClose()).toEqual({ code: 4007, reason: "test reason" });
  });

  it("routes a text frame to the text branch and a bytes frame to the bytes branch", async () => {
    class Branches extends Consumer {
      override receive(frame: Frame) {
        if (frame.text !== undefined) return this.send({ text: `text:${frame.text}` });
        return this.send({ text: `bytes:${frame.bytes.length}` });
      }
    }
    const { communicator } = await connected(Branches);
    await communicator.sendTo({ text: "" });
    await communicator.sendTo({ bytes: new Uint8Array(2) });
    expect(await communicator.receiveFrom()).toEqual({ text: "text:" });
    expect(await communicator.receiveFrom()).toEqual({ text: "bytes:2" });
  });

  it("refuses with 403 when close() comes before accept()", async () => {
    const { communicator } = communicatorFor(deciding((consumer) => consumer.close()));
    expect(await communicator.connect()).toEqual({
      accepted: false,
      subprotocol: null,
      status: 403,
      code: 1000,
    });
  });

  it("refuses with 500 and records the error when connect() throws", async () => {
    const boom = new Error("boom");
    const { communicator } = communicatorFor(
      deciding(() => {
        throw boom;
      }),
    );
    expect(await communicator.connect()).toMatchObject({ accepted: false, status: 500 });
    expect(communicator.errors).toEqual([boom]);
  });

  it("handles frames one at a time, in order, even when a handler awaits", async () => {
    class Slow extends Consumer {
      override async receive(frame: Frame) {
        await sleep(Number(frame.text));
        await this.send(frame);
      }
    }
    const { communicator } = await connected(Slow);
    for (const text of ["30", "0", "10"]) await communicator.sendTo({ text });
    const texts = [];
    for (let i = 0; i < 3; i++) texts.push((await communicator.receiveFrom()).text);
    expect(texts).toEqual(["30", "0", "10"]);
  });

  describe("a throwing receive()", () => {
    class Fails extends Consumer {
      override receive(): void {
        throw new Error("handler failed");
      }
    }

    it("closes the connection with 1011 and records the error", async () => {
      const { communicator } = await connected(Fails);
      await communicator.sendTo({ text: "x" });
      expect(await communicator.receiveClose()).toMatchObject({ code: 1011 });
      expect(communicator.errors).toHaveLength(1);
    });

    it("makes receiveFrom() throw ConnectionClosed with closeCode 1011", async () => {
      const { communicator } = await connected(Fails);
      await communicator.sendTo({ text: "x" });
      const error = await communicator.receiveFrom().catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(ConnectionClosed);
      expect(error).toMatchObject({ code: "CONNECTION_CLOSED", closeCode: 1011 });
    });

    it("keeps receiveFrom() and sendTo() throwing ConnectionClosed after receiveClose()", async () => {
      const { communicator } = await connected(Fails);
      await communicator.sendTo({ text: "x" });
      await communicator.receiveClose();
      const error = await communicator.receiveFrom(100).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(ConnectionClosed);
      expect(error).toMatchObject({ closeCode: 1011 });
      expect(await communicator.sendTo({ text: "y" }).catch((caught: unknown) => caught)).toBeInstanceOf(
        ConnectionClosed,
      );
    });
  });

  it("calls disconnect() exactly once, with the client's code", async () => {
    const { communicator } = await connected(Echo);
    await communicator.disconnect(4123);
    await communicator.disconnect(1000);
    expect(communicator.consumer.disconnects).toEqual([4123]);
  });
});

describe("Consumer groups and layer messages", () => {
  class GroupEcho extends Consumer {
    override groups = ["chat"];
    async chatEcho(message: { text: string }) {
      await this.send({ text: message.text });
    }
  }

  it("joins declared groups, receives their messages and leaves them on disconnect", async () => {
    const { communicator, layer } = await connected(GroupEcho);
    expect(communicator.groups).toEqual(["chat"]);
    expect(layer.groupChannels("chat")).toEqual([communicator.channelName]);
    await layer.groupSend("chat", { type: "chat.echo", text: "hi" });
    expect(await communicator.receiveFrom()).toEqual({ text: "hi" });
    await communicator.disconnect();
    expect(communicator.groups).toEqual([]);
    expect(layer.groupChannels("chat")).toEqual([]);
    expect(layer.size.memberships).toBe(0);
  });

  it("gives each member its own message: a handler that changes it changes nothing another member sees", async () => {
    class Scribbler extends Consumer {
      override groups = ["notes"];
      noteAdded(message: { tags: string[]; text: string }) {
        message.tags.push("seen");
        message.text = "scribbled";
        return this.send({ text: JSON.stringify(message) });
      }
    }
    const layer = new InMemoryChannelLayer();
    const members = [
      new WebsocketCommunicator(Scribbler, { layer }),
      new WebsocketCommunicator(Scribbler, { layer }),
    ];
    for (const member of members) await member.connect();
    const sent = { type: "note.added", tags: ["a"], text: "original" };
    await layer.groupSend("notes", sent);
    await layer.groupSend("notes", sent);
    for (const member of members) {
      for (let i = 0; i < 2; i++) {
        expect(JSON.parse((await member.receiveFrom()).text!)).toEqual({
          type: "note.added",
          tags: ["a", "seen"],
          text: "scribbled",
        });
      }
    }
    expect(sent).toEqual({ type: "note.added", tags: ["a"], text: "original" });
  });

  it("leaves groups joined at runtime with groupAdd() on disconnect", async () => {
    const Joins = deciding(async (consumer) => {
      await consumer.groupAdd("extra");
      await consumer.accept();
    });
    const { communicator, layer } = await connected(Joins);
    expect(layer.groupChannels("extra")).toEqual([communicator.channelName]);
    await communicator.disconnect();
    expect(layer.groupChannels("extra")).toEqual([]);
    expect(layer.size.memberships).toBe(0);
  });

  it("uses the layer it was given and runs handlers for messages sent to its channel", async () => {
    class Hello extends Consumer {
      async helloThere() {
        await this.send({ text: "hello" });
      }
    }
    const { communicator, layer } = await connected(Hello);
    expect(communicator.consumer.channelLayer).toBe(layer);
    await layer.send(communicator.channelName, { type: "hello.there" });
    expect(await communicator.receiveFrom()).toEqual({ text: "hello" });
  });

  it("drops messages sent to its channel after disconnect, without throwing", async () => {
    class Counts extends Consumer {
      calls = 0;
      ping() {
        this.calls++;
      }
    }
    const { communicator, layer } = await connected(Counts);
    const channel = communicator.channelName;
    await communicator.disconnect();
    await layer.send(channel, { type: "ping" });
    await sleep(20);
    expect(communicator.consumer.calls).toBe(0);
  });

  it("records NO_HANDLER for a type it has no method for and stays open", async () => {
    const { communicator, layer } = await connected(Echo);
    await layer.send(communicator.channelName, { type: "chat.message" });
    expect(await communicator.receiveNothing(50)).toBe(true);
    expect(communicator.errors[0]).toBeInstanceOf(DispatchError);
    expect(communicator.errors[0]).toMatchObject({ code: "NO_HANDLER" });
    await communicator.sendTo({ text: "still here" });
    expect(await communicator.receiveFrom()).toEqual({ text: "still here" });
  });

  it.each(["_my_private_handler", ".my_private_handler"])(
    "refuses type %p with INVALID_TYPE and stays open",
    async (type) => {
      class Private extends Echo {
        async _myPrivateHandler() {
          await this.send({ text: "reached" });
        }
        async myPrivateHandler() {
          await this.send({ text: "reached" });
        }
      }
      const { communicator, layer } = await connected(Private);
      await layer.send(communicator.channelName, { type });
      expect(await communicator.receiveNothing(50)).toBe(true);
      expect(communicator.errors).toHaveLength(1);
      expect(communicator.errors[0]).toBeInstanceOf(DispatchError);
      expect(communicator.errors[0]).toMatchObject({ code: "INVALID_TYPE" });
      await communicator.sendTo({ text: "after" });
      expect(await communicator.receiveFrom()).toEqual({ text: "after" });
    },
  );
});

describe("JsonConsumer", () => {
  class JsonEcho extends JsonConsumer {
    override receiveJson(data: unknown) {
      return this.sendJson(data);
    }
  }

  it("decodes and encodes JSON frames", async () => {
    const { communicator } = await connected(JsonEcho);
    await communicator.sendJsonTo({ hello: "world" });
    expect(await communicator.receiveJsonFrom()).toEqual({ hello: "world" });
  });

  it.each([
    ["a binary frame", { bytes: new Uint8Array([123, 125]) }, "BINARY_NOT_SUPPORTED", 1003],
    ["invalid JSON", { text: "{not json" }, "INVALID_JSON", 1007],
  ] as const)("answers %s with an error frame, then closes", async (_what, frame, code, closeCode) => {
    const { communicator } = await connected(JsonEcho);
    await communicator.sendTo(frame);
    expect(await communicator.receiveJsonFrom()).toMatchObject({ type: "error", code });
    expect(await communicator.receiveClose()).toMatchObject({ code: closeCode });
  });
});

describe("ChatRoom example", () => {
  const room = (name: string, layer: InMemoryChannelLayer, query = "") =>
    connected(ChatRoom, { path: `/chat/${name}${query}`, params: { room: name }, layer });

  it("broadcasts a message to every member of the room and nobody else", async () => {
    const layer = new InMemoryChannelLayer();
    const { communicator: alice } = await room("lobby", layer);
    const { communicator: bob } = await room("lobby", layer);
    const { communicator: elsewhere } = await room("kitchen", layer);
    await alice.sendJsonTo({ text: "hi" });
    const expected = { type: "chat.message", user: "anon", text: "hi" };
    expect(await alice.receiveJsonFrom()).toEqual(expected);
    expect(await bob.receiveJsonFrom()).toEqual(expected);
    expect(await elsewhere.receiveNothing(50)).toBe(true);
  });

  it("takes the user name from ?name=", async () => {
    const { communicator } = await room("lobby", new InMemoryChannelLayer(), "?name=ada");
    await communicator.sendJsonTo({ text: "hi" });
    expect(await communicator.receiveJsonFrom()).toMatchObject({ user: "ada" });
  });

  it("refuses an invalid room name with 403", async () => {
    const { communicator } = communicatorFor(ChatRoom, {
      path: "/chat/bad%20room",
      params: { room: "bad room" },
    });
    expect(await communicator.connect()).toMatchObject({ accepted: false, status: 403 });
  });

  it("answers a non-string text with an error frame and broadcasts nothing", async () => {
    const layer = new InMemoryChannelLayer();
    const { communicator: sender } = await room("lobby", layer);
    const { communicator: other } = await room("lobby", layer);
    await sender.sendJsonTo({ text: 42 });
    expect(await sender.receiveJsonFrom()).toMatchObject({ type: "error", code: "INVALID_MESSAGE" });
    expect(await other.receiveNothing(50)).toBe(true);
    expect(await sender.receiveNothing(50)).toBe(true);
  });
});

describe("LiveDashboard example", () => {
  it("answers a time request to the asker only", async () => {
    const layer = new InMemoryChannelLayer();
    const { communicator: asker } = await connected(LiveDashboard, { path: "/live", layer });
    const { communicator: other } = await connected(LiveDashboard, { path: "/live", layer });
    await asker.sendJsonTo({ type: "time" });
    expect(await asker.receiveJsonFrom()).toMatchObject({ type: "time", now: expect.any(String) });
    expect(await other.receiveNothing(50)).toBe(true);
  });

  it("pushes a live.update sent to the group to every dashboard", async () => {
    const layer = new InMemoryChannelLayer();
    const { communicator: first } = await connected(LiveDashboard, { path: "/live", layer });
    const { communicator: second } = await connected(LiveDashboard, { path: "/live", layer });
    const update = { type: "live.update", topic: "cpu", data: { load: 0.5 }, at: "2024-01-01T00:00:00Z" };
    await layer.groupSend(LIVE_GROUP, update);
    expect(await first.receiveJsonFrom()).toEqual(update);
    expect(await second.receiveJsonFrom()).toEqual(update);
  });
});
