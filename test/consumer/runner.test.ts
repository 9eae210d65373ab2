import { describe, expect, it } from "bun:test";
import type { Peer } from "../../src/adapters/runtime.ts";
import { ConnectionSet } from "../../src/consumer/connections.ts";
import { Consumer } from "../../src/consumer/consumer.ts";
import type { Frame } from "../../src/consumer/frames.ts";
import { ConsumerRunner } from "../../src/consumer/runner.ts";
import { createScope } from "../../src/consumer/scope.ts";
import { ConsumerStateError } from "../../src/errors.ts";
import { type ChannelLayer, canListen } from "../../src/layers/layer.ts";
import { InMemoryChannelLayer } from "../../src/layers/memory.ts";
import type { Logger } from "../../src/log.ts";

/** A socket that records what the runner did to it. */
class FakePeer implements Peer {
  sent: Array<string | Uint8Array> = [];
  closes: Array<{ code: number; reason: string }> = [];
  bufferedAmount = 0;
  send(data: string | Uint8Array) {
    this.sent.push(data);
  }
  close(code: number, reason: string) {
    this.closes.push({ code, reason });
  }
}

/** A logger that keeps its lines for assertions. */
function recordingLogger() {
  const lines: Array<{ level: string; message: string; details?: Record<string, unknown> }> = [];
  const at = (level: string) => (message: string, details?: Record<string, unknown>) =>
    lines.push({ level, message, details });
  const logger: Logger = { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
  return { logger, lines };
}

function run(consumer: new (scope: ReturnType<typeof createScope>) => Consumer, subprotocols: string[] = []) {
  const { logger, lines } = recordingLogger();
  const runner = new ConsumerRunner(consumer, createScope("/test", { subprotocols }), {
    logger,
    layer: new InMemoryChannelLayer(),
  });
  return { runner, lines };
}

/** A consumer class that records its disconnect codes, and the list they land in. */
function disconnectRecorder() {
  const codes: number[] = [];
  class Recorder extends Consumer {
    override disconnect(code: number) {
      codes.push(code);
    }
  }
  return { codes, Recorder };
}

const tick = (ms = 0) => new Promise((resolve) => setTimeout(resolve, ms));

describe("ConsumerRunner handshake", () => {
  it("accepts by default, with no subprotocol", async () => {
    const { runner } = run(class extends Consumer {});
    expect(await runner.start()).toEqual({ accepted: true, subprotocol: null, headers: {} });
  });

  it("echoes a subprotocol the client offered", async () => {
    const { runner } = run(
      class extends Consumer {
        override connect() {
          return this.accept({ subprotocol: "v2" });
        }
      },
      ["v1", "v2"],
    );
    expect(await runner.start()).toMatchObject({ accepted: true, subprotocol: "v2" });
  });

  it("refuses with 500 when accept() names a subprotocol the client did not offer", async () => {
    const { runner, lines } = run(
      class extends Consumer {
        override connect() {
          return this.accept({ subprotocol: "v3" });
        }
      },
      ["v1"],
    );
    expect(await runner.start()).toEqual({ accepted: false, status: 500, code: 1011 });
    expect(lines.find((line) => line.level === "error")?.details?.error).toBeInstanceOf(ConsumerStateError);
  });

  it("refuses with 403 when connect() closes, and still runs disconnect once", async () => {
    const codes: number[] = [];
    const { runner } = run(
      class extends Consumer {
        override connect() {
          return this.close();
        }
        override disconnect(code: number) {
          codes.push(code);
        }
      },
    );
    expect(await runner.start()).toEqual({ accepted: false, status: 403, code: 1000 });
    await runner.finished;
    expect(codes).toEqual([1006]);
  });

  it("refuses with 403 and warns when connect() neither accepts nor closes", async () => {
    const { runner, lines } = run(
      class extends Consumer {
        override connect() {}
      },
    );
    expect(await runner.start()).toEqual({ accepted: false, status: 403, code: 1000 });
    expect(lines.some((line) => line.level === "warn")).toBe(true);
  });

  it("refuses with 500 and logs the consumer when connect() throws", async () => {
    class Broken extends Consumer {
      override connect(): never {
        throw new Error("no");
      }
    }
    const { runner, lines } = run(Broken);
    expect(await runner.start()).toEqual({ accepted: false, status: 500, code: 1011 });
    expect(lines).toContainEqual(
      expect.objectContaining({ level: "error", message: expect.stringContaining("Broken.connect()") }),
    );
  });

  it("throws when send() comes before accept()", async () => {
    let thrown: unknown;
    const { runner } = run(
      class extends Consumer {
        override async connect() {
          try {
            await this.send({ text: "too early" });
          } catch (error) {
            thrown = error;
          }
          await this.accept();
        }
      },
    );
    await runner.start();
    expect(thrown).toBeInstanceOf(ConsumerStateError);
  });
});

describe("ConsumerRunner frames", () => {
  it("buffers sends made before the socket opens and flushes them in order", async () => {
    const { runner } = run(
      class extends Consumer {
        override async connect() {
          await this.accept();
          await this.send({ text: "one" });
          await this.send({ bytes: new Uint8Array([2]) });
        }
      },
    );
    await runner.start();
    await tick(); // let connect() finish: both sends happen before the socket opens
    const peer = new FakePeer();
    expect(peer.sent).toEqual([]);
    runner.open(peer);
    expect(peer.sent).toEqual(["one", new Uint8Array([2])]);
  });

  it("handles frames one at a time, in arrival order, even when handlers take different times", async () => {
    const seen: string[] = [];
    let active = 0;
    let maxActive = 0;
    const { runner } = run(
      class extends Consumer {
        override async receive(frame: Frame) {
          active++;
          maxActive = Math.max(maxActive, active);
          await tick(frame.text === "slow" ? 20 : 0);
          seen.push(frame.text ?? "bytes");
          active--;
        }
      },
    );
    await runner.start();
    runner.open(new FakePeer());
    for (const text of ["slow", "fast", "slow", "fast"]) runner.receive(text);
    runner.receive(new Uint8Array([1]));
    runner.closed(1000);
    await runner.finished;
    expect(seen).toEqual(["slow", "fast", "slow", "fast", "bytes"]);
    expect(maxActive).toBe(1);
  });

  it("waits for connect() to finish before the first frame is handled", async () => {
    const events: string[] = [];
    const { runner } = run(
      class extends Consumer {
        override async connect() {
          await this.accept();
          await tick(20);
          events.push("connected");
        }
        override receive() {
          events.push("frame");
        }
      },
    );
    await runner.start();
    runner.open(new FakePeer());
    runner.receive("early");
    runner.closed(1000);
    await runner.finished;
    expect(events).toEqual(["connected", "frame"]);
  });

  it("closes with 1011 when receive() throws, drops the frames behind it, and logs path and consumer", async () => {
    const handled: string[] = [];
    class Fragile extends Consumer {
      override receive(frame: Frame) {
        handled.push(frame.text ?? "");
        if (frame.text === "bad") throw new Error("bad frame");
      }
    }
    const { runner, lines } = run(Fragile);
    await runner.start();
    const peer = new FakePeer();
    runner.open(peer);
    runner.receive("ok");
    runner.receive("bad");
    runner.receive("after");
    await tick(5);
    expect(peer.closes).toEqual([{ code: 1011, reason: "internal error" }]);
    expect(handled).toEqual(["ok", "bad"]);
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: "error",
        details: expect.objectContaining({ consumer: "Fragile", path: "/test" }),
      }),
    );
  });

  it("drops sends after the connection closed instead of throwing", async () => {
    let afterClose: Promise<void> | undefined;
    const { runner } = run(
      class extends Consumer {
        override disconnect() {
          afterClose = this.send({ text: "late" });
        }
      },
    );
    await runner.start();
    const peer = new FakePeer();
    runner.open(peer);
    runner.closed(1000);
    await runner.finished;
    await afterClose;
    expect(peer.sent).toEqual([]);
  });
});

describe("ConsumerRunner disconnect", () => {
  it("runs disconnect exactly once, after the frames that came before it, with the client's code", async () => {
    const events: string[] = [];
    const { runner } = run(
      class extends Consumer {
        override receive(frame: Frame) {
          events.push(`frame ${frame.text}`);
        }
        override disconnect(code: number) {
          events.push(`disconnect ${code}`);
        }
      },
    );
    await runner.start();
    runner.open(new FakePeer());
    runner.receive("a");
    runner.closed(4000);
    runner.closed(1006);
    await runner.shutdown(1001, "", 10);
    expect(events).toEqual(["frame a", "disconnect 4000"]);
  });

  it("reports the code the server closed with, whatever the runtime echoes", async () => {
    const codes: number[] = [];
    const { runner } = run(
      class extends Consumer {
        override async receive() {
          await this.close({ code: 4100, reason: "done" });
        }
        override disconnect(code: number) {
          codes.push(code);
        }
      },
    );
    await runner.start();
    const peer = new FakePeer();
    runner.open(peer);
    runner.receive("x");
    await tick();
    expect(peer.closes).toEqual([{ code: 4100, reason: "done" }]);
    runner.closed(1005); // Deno reports 1005 for a close the server started
    await runner.finished;
    expect(codes).toEqual([4100]);
  });

  it("shutdown() closes with 1001 and runs disconnect when the client completes the close", async () => {
    const { codes, Recorder } = disconnectRecorder();
    const { runner } = run(Recorder);
    await runner.start();
    const peer = new FakePeer();
    runner.open(peer);
    const done = runner.shutdown(1001, "server shutting down", 5000);
    expect(peer.closes).toEqual([{ code: 1001, reason: "server shutting down" }]);
    runner.closed(1001);
    await done;
    expect(codes).toEqual([1001]);
  });

  it("shutdown() runs disconnect after its timeout when the client never answers", async () => {
    const { codes, Recorder } = disconnectRecorder();
    const { runner } = run(Recorder);
    await runner.start();
    runner.open(new FakePeer());
    await runner.shutdown(1001, "bye", 20);
    expect(codes).toEqual([1001]);
  });

  it("logs an error thrown by disconnect() and still finishes", async () => {
    const { runner, lines } = run(
      class extends Consumer {
        override disconnect(): never {
          throw new Error("cleanup failed");
        }
      },
    );
    await runner.start();
    runner.open(new FakePeer());
    runner.closed(1000);
    await runner.finished;
    expect(lines.some((line) => line.level === "error" && line.message.includes("disconnect()"))).toBe(true);
  });
});

describe("ConnectionSet", () => {
  it("closes every connection, waits for each disconnect, then refuses new ones", async () => {
    const set = new ConnectionSet();
    const disconnected: number[] = [];
    const peers: FakePeer[] = [];
    for (let i = 0; i < 3; i++) {
      const { runner } = run(
        class extends Consumer {
          override async disconnect(code: number) {
            await tick(5);
            disconnected.push(code);
          }
        },
      );
      set.add(runner);
      await runner.start();
      const peer = new FakePeer();
      peers.push(peer);
      runner.open(peer);
    }
    expect(set.size).toBe(3);
    await set.closeAll(1001, "bye", 30);
    expect(disconnected).toEqual([1001, 1001, 1001]);
    expect(peers.map((peer) => peer.closes[0]?.code)).toEqual([1001, 1001, 1001]);
    await tick();
    expect(set.size).toBe(0);
    expect(set.accepting).toBe(false);
  });
});

describe("Consumer", () => {
  it("explains that a consumer made with new is not connected", async () => {
    const consumer = new Consumer(createScope("/x"));
    await expect(consumer.send({ text: "hi" })).rejects.toBeInstanceOf(ConsumerStateError);
  });
});

describe("ConsumerRunner failures around the socket", () => {
  it("runs disconnect(1006) once when the runtime could not complete an accepted upgrade", async () => {
    const { codes, Recorder } = disconnectRecorder();
    const { runner } = run(Recorder);
    expect((await runner.start()).accepted).toBe(true);
    runner.upgradeFailed();
    runner.upgradeFailed();
    await runner.finished;
    expect(codes).toEqual([1006]);
  });

  it("refuses close codes a server may not send and reasons over 123 bytes, keeping the socket usable", async () => {
    const errors: unknown[] = [];
    const { runner } = run(
      class extends Consumer {
        override async receive(frame: Frame) {
          for (const options of [{ code: 1005 }, { code: 2000 }, { code: 1000, reason: "é".repeat(62) }]) {
            await this.close(options).catch((error: unknown) => errors.push(error));
          }
          await this.send(frame);
        }
      },
    );
    await runner.start();
    const peer = new FakePeer();
    runner.open(peer);
    runner.receive("still open");
    await tick();
    expect(errors).toHaveLength(3);
    for (const error of errors) expect(error).toBeInstanceOf(ConsumerStateError);
    expect(peer.sent).toEqual(["still open"]);
    expect(peer.closes).toEqual([]);
  });

  it("still ends the connection when the runtime throws while closing", async () => {
    const codes: number[] = [];
    const { runner } = run(
      class extends Consumer {
        override receive() {
          return this.close({ code: 4000 });
        }
        override disconnect(code: number) {
          codes.push(code);
        }
      },
    );
    await runner.start();
    const peer = new FakePeer();
    peer.close = () => {
      throw new Error("socket already broken");
    };
    runner.open(peer);
    runner.receive("close please");
    await runner.finished;
    expect(codes).toEqual([4000]);
  });
});

describe("ConsumerRunner late open", () => {
  it("closes a socket that opens after the runner gave up on it", async () => {
    const { codes, Recorder } = disconnectRecorder();
    const { runner } = run(Recorder);
    await runner.start();
    runner.upgradeFailed();
    await runner.finished;
    const peer = new FakePeer();
    runner.open(peer);
    expect(peer.closes).toEqual([{ code: 1001, reason: "" }]);
    expect(codes).toEqual([1006]);
  });
});

/** A layer with Channels' methods only, delegating to `inner`: no `listen`, so runners must receive(). */
function channelsOnly(inner: InMemoryChannelLayer, receive = inner.receive.bind(inner)): ChannelLayer {
  return {
    send: (channel, message) => inner.send(channel, message),
    receive,
    newChannel: (prefix) => inner.newChannel(prefix),
    groupAdd: (group, channel) => inner.groupAdd(group, channel),
    groupDiscard: (group, channel) => inner.groupDiscard(group, channel),
    groupSend: (group, message) => inner.groupSend(group, message),
    flush: () => inner.flush(),
    close: () => inner.close(),
  };
}

/** A consumer in group "room" that records the `n` of each `chat.message` it handles. */
function roomMember() {
  const seen: unknown[] = [];
  class Member extends Consumer {
    override groups = ["room"];
    chatMessage(message: { n: number }) {
      seen.push(message.n);
    }
  }
  return { seen, Member };
}

async function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`not settled within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

async function until(condition: () => boolean, timeoutMs = 1000) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await tick(1);
  }
}

describe("ConsumerRunner on a layer without listen()", () => {
  it("receives group and direct messages in order, and stops receiving once disconnected", async () => {
    const inner = new InMemoryChannelLayer();
    const layer = channelsOnly(inner);
    expect(canListen(layer)).toBe(false);
    const { seen, Member } = roomMember();
    const { logger, lines } = recordingLogger();
    const runner = new ConsumerRunner(Member, createScope("/room"), { logger, layer });
    expect((await runner.start()).accepted).toBe(true);
    runner.open(new FakePeer());
    const channel = runner.channelName;
    await layer.groupSend("room", { type: "chat.message", n: 1 });
    await layer.send(channel, { type: "chat.message", n: 2 });
    await layer.groupSend("room", { type: "chat.message", n: 3 });
    await until(() => seen.length === 3);
    expect(seen).toEqual([1, 2, 3]);

    runner.closed(1000);
    await runner.finished;
    await tick();
    // No receive() is left pending on the channel: a later message stays in the layer, unhandled.
    await layer.send(channel, { type: "chat.message", n: 4 });
    await tick(5);
    expect(seen).toEqual([1, 2, 3]);
    expect(await inner.receive(channel, { signal: AbortSignal.timeout(100) })).toEqual({
      type: "chat.message",
      n: 4,
    });
    expect(inner.size).toEqual({ channels: 0, groups: 0, memberships: 0 });
    expect(lines.filter((line) => line.level === "error")).toEqual([]);
  });

  it("ends the loop quietly when the layer is closed under a live connection", async () => {
    const inner = new InMemoryChannelLayer();
    const { Member } = roomMember();
    const { logger, lines } = recordingLogger();
    const runner = new ConsumerRunner(Member, createScope("/room"), { logger, layer: channelsOnly(inner) });
    await runner.start();
    runner.open(new FakePeer());
    await tick();
    await inner.close();
    await tick(5);
    expect(lines.filter((line) => line.level === "error")).toEqual([]);
  });

  it("logs a failing receive() once and stops the loop, keeping the connection", async () => {
    const inner = new InMemoryChannelLayer();
    let calls = 0;
    const failing = async () => {
      calls++;
      throw new Error("backend gone");
    };
    const { Member } = roomMember();
    const { logger, lines } = recordingLogger();
    const runner = new ConsumerRunner(Member, createScope("/room"), {
      logger,
      layer: channelsOnly(inner, failing),
    });
    await runner.start();
    const peer = new FakePeer();
    runner.open(peer);
    await tick(5);
    expect(calls).toBe(1);
    expect(lines.filter((line) => line.level === "error")).toHaveLength(1);
    expect(peer.closes).toEqual([]);
    runner.closed(1000);
    await runner.finished;
  });
});

describe("ConsumerRunner on a layer whose local delivery is incomplete or fails", () => {
  it("uses a receive() loop with a layer that has listen() but no unlisten()", async () => {
    const inner = new InMemoryChannelLayer();
    // Written against an older contract: listen() alone, no way to stop it that the runner knows.
    const layer = { ...channelsOnly(inner), listen: () => () => {} } as ChannelLayer;
    expect(canListen(layer)).toBe(false);
    const { seen, Member } = roomMember();
    const { logger } = recordingLogger();
    const runner = new ConsumerRunner(Member, createScope("/room"), { logger, layer });
    await runner.start();
    runner.open(new FakePeer());
    await layer.groupSend("room", { type: "chat.message", n: 1 });
    await until(() => seen.length === 1);
    runner.closed(1000);
    await runner.finished;
    expect(inner.size).toEqual({ channels: 0, groups: 0, memberships: 0 });
  });

  it("finishes the connection and logs it when the layer's unlisten() throws", async () => {
    class FailingUnlisten extends InMemoryChannelLayer {
      override unlisten(): void {
        throw new Error("backend gone");
      }
    }
    const layer = new FailingUnlisten();
    const { Member } = roomMember();
    const { logger, lines } = recordingLogger();
    const runner = new ConsumerRunner(Member, createScope("/room"), { logger, layer });
    await runner.start();
    runner.open(new FakePeer());
    runner.closed(1000);
    await within(runner.finished, 500);
    const errors = lines.filter((line) => line.level === "error").map((line) => line.message);
    expect(errors).toEqual([expect.stringContaining("unlisten")]);
  });
});

describe("ConsumerRunner shutdown during connect()", () => {
  it("refuses with 503 and the shutdown's close code, then runs disconnect", async () => {
    let release!: () => void;
    const { codes, Recorder } = disconnectRecorder();
    class Slow extends Recorder {
      override async connect() {
        await new Promise<void>((resolve) => {
          release = resolve;
        });
        await this.accept().catch(() => {});
      }
    }
    const { runner } = run(Slow);
    const decision = runner.start();
    await tick();
    const done = runner.shutdown(1001, "bye", 50);
    expect(await decision).toEqual({ accepted: false, status: 503, code: 1001 });
    release();
    await done;
    expect(codes).toEqual([1006]);
  });
});
