import { describe, expect, it } from "bun:test";
import {
  ChannelsError,
  CommunicatorTimeout,
  Consumer,
  ConsumerStateError,
  type Frame,
  InMemoryChannelLayer,
  type Scope,
  WebsocketCommunicator,
} from "../../src/index.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

class Echo extends Consumer {
  override receive(frame: Frame) {
    return this.send(frame);
  }
}

/** Keeps the scope it was given, for inspection. */
class ScopeKeeper extends Consumer {
  static last: Scope | null = null;
  override connect() {
    ScopeKeeper.last = this.scope;
    return this.accept();
  }
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => error,
  );
}

async function connectedEcho() {
  const communicator = new WebsocketCommunicator(Echo, { layer: new InMemoryChannelLayer() });
  expect((await communicator.connect()).accepted).toBe(true);
  return communicator;
}

describe("connect()", () => {
  it("throws CommunicatorTimeout when connect() decides nothing within the timeout", async () => {
    class Undecided extends Consumer {
      override async connect() {
        // Returning without a decision is refused at once; never returning is what times out.
        await new Promise(() => {});
      }
    }
    const communicator = new WebsocketCommunicator(Undecided, { layer: new InMemoryChannelLayer() });
    const error = await rejection(communicator.connect(50));
    expect(error).toBeInstanceOf(CommunicatorTimeout);
    expect(error).toMatchObject({ code: "TIMEOUT" });
  });

  it("reports a consumer that returns without deciding as refused with 403", async () => {
    class Silent extends Consumer {
      override connect() {}
    }
    const communicator = new WebsocketCommunicator(Silent, { layer: new InMemoryChannelLayer() });
    expect(await communicator.connect()).toMatchObject({ accepted: false, status: 403 });
  });

  it("reports an accepted handshake as status 101 with no subprotocol", async () => {
    const communicator = new WebsocketCommunicator(Echo, { layer: new InMemoryChannelLayer() });
    expect(await communicator.connect()).toEqual({
      accepted: true,
      subprotocol: null,
      status: 101,
      code: null,
    });
  });
});

describe("connect() refusal codes", () => {
  /** A consumer whose connect() refuses with `options`. */
  function refusing(options?: { code?: number }) {
    return class Refusing extends Consumer {
      override connect() {
        return this.close(options);
      }
    };
  }
  const connect = (consumer: typeof Consumer) =>
    new WebsocketCommunicator(consumer, { layer: new InMemoryChannelLayer() }).connect();

  it("tells close({ code: 4003 }) from close({ code: 4004 }), both answered 403", async () => {
    expect(await connect(refusing({ code: 4003 }))).toEqual({
      accepted: false,
      subprotocol: null,
      status: 403,
      code: 4003,
    });
    expect(await connect(refusing({ code: 4004 }))).toMatchObject({ status: 403, code: 4004 });
  });

  it("answers close({ code: 4401 }) with status 401 and reports code 4401", async () => {
    expect(await connect(refusing({ code: 4401 }))).toMatchObject({
      accepted: false,
      status: 401,
      code: 4401,
    });
  });

  it("reports 1000 for close() without a code, as Channels does", async () => {
    expect(await connect(refusing())).toMatchObject({ accepted: false, status: 403, code: 1000 });
  });

  it("reports 500 and 1011 when connect() throws", async () => {
    class Throws extends Consumer {
      override connect(): never {
        throw new Error("no");
      }
    }
    expect(await connect(Throws)).toMatchObject({ accepted: false, status: 500, code: 1011 });
  });

  it("reports 403 and 1000 when connect() returns without deciding", async () => {
    class Silent extends Consumer {
      override connect() {}
    }
    expect(await connect(Silent)).toMatchObject({ accepted: false, status: 403, code: 1000 });
  });
});

describe("scope options", () => {
  it("pass path, query, headers, params, user and subprotocols to the consumer", async () => {
    const communicator = new WebsocketCommunicator(ScopeKeeper, {
      path: "/chat/lobby/?tag=a&tag=b&name=ada",
      headers: { "x-token": "secret" },
      params: { room: "lobby" },
      user: { id: "1", name: "ada" },
      subprotocols: ["v1", "v2"],
      layer: new InMemoryChannelLayer(),
    });
    await communicator.connect();
    const scope = ScopeKeeper.last!;
    expect(scope.type).toBe("websocket");
    expect(scope.path).toBe("/chat/lobby/");
    expect(scope.query.getAll("tag")).toEqual(["a", "b"]);
    expect(scope.query.get("name")).toBe("ada");
    expect(scope.headers.get("X-Token")).toBe("secret");
    expect(scope.params).toEqual({ room: "lobby" });
    expect(scope.user).toEqual({ id: "1", name: "ada" });
    expect(scope.subprotocols).toEqual(["v1", "v2"]);
  });

  it("default to path /, no user and nothing offered", async () => {
    const communicator = new WebsocketCommunicator(ScopeKeeper, { layer: new InMemoryChannelLayer() });
    await communicator.connect();
    expect(ScopeKeeper.last).toMatchObject({ path: "/", params: {}, user: null, subprotocols: [] });
    expect([...ScopeKeeper.last!.query]).toEqual([]);
  });
});

describe("sendTo()", () => {
  it("throws NOT_CONNECTED before connect()", async () => {
    const communicator = new WebsocketCommunicator(Echo, { layer: new InMemoryChannelLayer() });
    const error = await rejection(communicator.sendTo({ text: "early" }));
    expect(error).toBeInstanceOf(ChannelsError);
    expect(error).toMatchObject({ code: "NOT_CONNECTED" });
  });

  it("throws NOT_CONNECTED after a refused connect()", async () => {
    class Refuse extends Consumer {
      override connect() {
        return this.close();
      }
    }
    const communicator = new WebsocketCommunicator(Refuse, { layer: new InMemoryChannelLayer() });
    await communicator.connect();
    const error = await rejection(communicator.sendJsonTo({ text: "late" }));
    expect(error).toMatchObject({ code: "NOT_CONNECTED" });
  });
});

describe("receiveFrom()", () => {
  it("throws CommunicatorTimeout when nothing is sent within the timeout", async () => {
    const communicator = await connectedEcho();
    const error = await rejection(communicator.receiveFrom(30));
    expect(error).toBeInstanceOf(CommunicatorTimeout);
    expect(error).toMatchObject({ code: "TIMEOUT" });
  });

  it("waits for a frame sent after it started waiting", async () => {
    const communicator = await connectedEcho();
    const frame = communicator.receiveFrom(500);
    await sleep(20);
    await communicator.sendTo({ text: "later" });
    expect(await frame).toEqual({ text: "later" });
  });

  it("returns frames in the order they were sent", async () => {
    const communicator = await connectedEcho();
    await communicator.sendTo({ text: "1" });
    await communicator.sendTo({ text: "2" });
    expect(await communicator.receiveFrom()).toEqual({ text: "1" });
    expect(await communicator.receiveFrom()).toEqual({ text: "2" });
  });
});

describe("receiveJsonFrom()", () => {
  it("throws NOT_TEXT for a binary frame", async () => {
    const communicator = await connectedEcho();
    await communicator.sendTo({ bytes: new Uint8Array([1]) });
    const error = await rejection(communicator.receiveJsonFrom());
    expect(error).toBeInstanceOf(ChannelsError);
    expect(error).toMatchObject({ code: "NOT_TEXT" });
  });
});

describe("receiveClose()", () => {
  it("throws UNEXPECTED_FRAME when a frame comes before the close", async () => {
    const communicator = await connectedEcho();
    await communicator.sendTo({ text: "frame" });
    const error = await rejection(communicator.receiveClose());
    expect(error).toBeInstanceOf(ChannelsError);
    expect(error).toMatchObject({ code: "UNEXPECTED_FRAME" });
  });

  it("throws CommunicatorTimeout when the consumer does not close", async () => {
    const communicator = await connectedEcho();
    expect(await rejection(communicator.receiveClose(30))).toBeInstanceOf(CommunicatorTimeout);
  });
});

describe("receiveNothing()", () => {
  it("is true when the consumer sends nothing", async () => {
    const communicator = await connectedEcho();
    expect(await communicator.receiveNothing(20)).toBe(true);
  });

  it("is false when a frame is waiting", async () => {
    const communicator = await connectedEcho();
    await communicator.sendTo({ text: "x" });
    await sleep(10);
    expect(await communicator.receiveNothing(20)).toBe(false);
  });

  it("is false when a frame arrives while it waits", async () => {
    class Delayed extends Consumer {
      override async receive(frame: Frame) {
        await sleep(10);
        await this.send(frame);
      }
    }
    const communicator = new WebsocketCommunicator(Delayed, { layer: new InMemoryChannelLayer() });
    await communicator.connect();
    await communicator.sendTo({ text: "x" });
    expect(await communicator.receiveNothing(50)).toBe(false);
  });
});

describe("disconnect()", () => {
  it("waits for an async disconnect() to finish", async () => {
    class SlowGoodbye extends Consumer {
      finished = false;
      override async disconnect() {
        await sleep(30);
        this.finished = true;
      }
    }
    const communicator = new WebsocketCommunicator(SlowGoodbye, { layer: new InMemoryChannelLayer() });
    await communicator.connect();
    await communicator.disconnect();
    expect(communicator.consumer.finished).toBe(true);
  });

  it("throws CommunicatorTimeout when disconnect() outlasts the timeout", async () => {
    class Stuck extends Consumer {
      override async disconnect() {
        await new Promise(() => {});
      }
    }
    const communicator = new WebsocketCommunicator(Stuck, { layer: new InMemoryChannelLayer() });
    await communicator.connect();
    const error = await rejection(communicator.disconnect(1000, 30));
    expect(error).toBeInstanceOf(CommunicatorTimeout);
    expect(error).toMatchObject({ code: "TIMEOUT" });
  });
});

describe("errors", () => {
  it("starts empty and records what the consumer logged as an error", async () => {
    class Fails extends Consumer {
      override receive(): void {
        throw new TypeError("bad frame");
      }
    }
    const communicator = new WebsocketCommunicator(Fails, { layer: new InMemoryChannelLayer() });
    await communicator.connect();
    expect(communicator.errors).toEqual([]);
    await communicator.sendTo({ text: "x" });
    await communicator.receiveClose();
    expect(communicator.errors).toHaveLength(1);
    expect(communicator.errors[0]).toBeInstanceOf(TypeError);
  });

  it("are also passed to the logger option", async () => {
    const lines: string[] = [];
    const ignore = () => {};
    const logger = { debug: ignore, info: ignore, warn: ignore, error: (line: string) => lines.push(line) };
    class Refused extends Consumer {
      override connect(): void {
        throw new Error("no");
      }
    }
    const communicator = new WebsocketCommunicator(Refused, { layer: new InMemoryChannelLayer(), logger });
    await communicator.connect();
    expect(communicator.errors).toHaveLength(1);
    expect(lines).toHaveLength(1);
  });
});

describe("channelName", () => {
  it("throws INVALID_STATE before connect()", () => {
    const communicator = new WebsocketCommunicator(Echo, { layer: new InMemoryChannelLayer() });
    let error: unknown;
    try {
      void communicator.channelName;
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConsumerStateError);
    expect(error).toMatchObject({ code: "INVALID_STATE" });
  });
});
