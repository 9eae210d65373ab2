import { describe, expect, it } from "bun:test";
import { Consumer } from "../../src/consumer/consumer.ts";
import { handlerName, resolveHandler } from "../../src/consumer/dispatch.ts";
import type { Frame } from "../../src/consumer/frames.ts";
import { JsonConsumer } from "../../src/consumer/json.ts";
import { createScope } from "../../src/consumer/scope.ts";
import { DispatchError } from "../../src/errors.ts";
import { thrown } from "../_support/errors.ts";

function expectDispatchError(run: () => unknown, code: "INVALID_TYPE" | "NO_HANDLER") {
  const error = thrown(run);
  expect(error).toBeInstanceOf(DispatchError);
  expect(error).toMatchObject({ code });
}

const nonStrings: Array<[string, unknown]> = [
  ["a number", 42],
  ["null", null],
  ["undefined", undefined],
  ["an object", { type: "chat.message" }],
];

describe("handlerName()", () => {
  it.each([
    ["chat.message", "chatMessage"],
    ["user.joined_room", "userJoinedRoom"],
    ["a.b_c", "aBC"],
    ["ping", "ping"],
    ["v2.update_3", "v2Update3"],
    ["chat.message2", "chatMessage2"],
  ])("maps %p to %p", (type, name) => {
    expect(handlerName(type)).toBe(name);
  });

  it.each(["", "_x", ".x", "a..b", "a.", "a_", "x-y", "__proto__", "1a", "a b"])(
    "refuses %p with INVALID_TYPE",
    (type) => {
      expectDispatchError(() => handlerName(type), "INVALID_TYPE");
    },
  );

  it.each(nonStrings)("refuses %s with INVALID_TYPE", (_what, type) => {
    expectDispatchError(() => handlerName(type), "INVALID_TYPE");
  });
});

describe("resolveHandler()", () => {
  class Room extends JsonConsumer {
    received: unknown[] = [];
    /** An instance field holding a function: not declared on the class, so not a handler. */
    arrowHandler = () => "reached";

    chatMessage(message: unknown) {
      this.received.push(message);
      return this;
    }

    /** A getter is not a method. */
    get computedValue() {
      return () => "reached";
    }
  }
  const room = () => new Room(createScope("/"));

  it("returns the method named after the type, to call on the consumer", () => {
    const consumer = room();
    const message = { type: "chat.message", text: "hi" };
    expect(resolveHandler(consumer, "chat.message").call(consumer, message)).toBe(consumer);
    expect(consumer.received).toEqual([message]);
  });

  it.each([
    "send",
    "close",
    "accept",
    "connect",
    "receive",
    "disconnect",
    "receiveJson",
    "sendJson",
    "decodeJson",
    "encodeJson",
    "groupSend",
    "groupAdd",
    "groupDiscard",
    "channelName",
    "channelLayer",
    "group.send",
    "receive_json",
    "constructor",
    "toString",
    "hasOwnProperty",
    "valueOf",
    "isPrototypeOf",
    "__proto__",
    "__defineGetter__",
  ])("refuses the framework or Object name %p with INVALID_TYPE", (type) => {
    expectDispatchError(() => resolveHandler(room(), type), "INVALID_TYPE");
  });

  it.each(nonStrings)("refuses %s as a type with INVALID_TYPE", (_what, type) => {
    expectDispatchError(() => resolveHandler(room(), type), "INVALID_TYPE");
  });

  it("refuses a getter the user defined, with NO_HANDLER", () => {
    expectDispatchError(() => resolveHandler(room(), "computed_value"), "NO_HANDLER");
  });

  it("refuses an instance arrow-function field, with NO_HANDLER", () => {
    expectDispatchError(() => resolveHandler(room(), "arrow_handler"), "NO_HANDLER");
  });

  it("refuses instance fields that are not functions, with NO_HANDLER", () => {
    expectDispatchError(() => resolveHandler(room(), "received"), "NO_HANDLER");
    expectDispatchError(() => resolveHandler(room(), "scope"), "NO_HANDLER");
  });

  it("refuses a framework method the user overrides", () => {
    class Overrides extends Consumer {
      override async send(frame: Frame) {
        await super.send(frame);
      }
      override async groupSend() {}
    }
    const consumer = new Overrides(createScope("/"));
    expectDispatchError(() => resolveHandler(consumer, "send"), "INVALID_TYPE");
    expectDispatchError(() => resolveHandler(consumer, "group_send"), "INVALID_TYPE");
  });

  it("reaches a handler inherited from a user base class", () => {
    class A extends Consumer {
      fooBar() {
        return this;
      }
    }
    class B extends A {}
    const consumer = new B(createScope("/"));
    expect(resolveHandler(consumer, "foo.bar").call(consumer, { type: "foo.bar" })).toBe(consumer);
  });

  it("prefers a subclass's override of a user handler", () => {
    class A extends Consumer {
      fooBar() {
        return "A";
      }
    }
    class B extends A {
      override fooBar() {
        return "B";
      }
    }
    expect(resolveHandler(new B(createScope("/")), "foo.bar")({ type: "foo.bar" })).toBe("B");
    expect(resolveHandler(new A(createScope("/")), "foo.bar")({ type: "foo.bar" })).toBe("A");
  });

  it("resolves per class: one class's handler is not found on another", () => {
    class Other extends JsonConsumer {}
    expect(resolveHandler(room(), "chat.message")).toBeInstanceOf(Function);
    expectDispatchError(() => resolveHandler(new Other(createScope("/")), "chat.message"), "NO_HANDLER");
  });

  it("refuses the same bad type every time it is asked", () => {
    const consumer = room();
    expectDispatchError(() => resolveHandler(consumer, "send"), "INVALID_TYPE");
    expectDispatchError(() => resolveHandler(consumer, "send"), "INVALID_TYPE");
    expectDispatchError(() => resolveHandler(consumer, "no.such"), "NO_HANDLER");
    expectDispatchError(() => resolveHandler(consumer, "no.such"), "NO_HANDLER");
  });
});
