import { describe, expect, it } from "bun:test";
import { decodeEntry, encodeEntry, fromWire, toWire } from "../../src/layers/backplanes/redis-entries.ts";
import type { Message } from "../../src/layers/layer.ts";

describe("the Redis backplane's wire form", () => {
  it("writes a message JSON carries exactly as its JSON text, and reads it back", () => {
    const message = {
      type: "chat.message",
      user: "ada",
      text: 'a "quoted"\nline',
      n: 2 ** 60,
      list: [1, null, { a: true }],
    };
    const payload = toWire(message);
    expect(payload).toBe(JSON.stringify(message));
    expect(fromWire(payload)).toEqual(message);
  });

  // Each of these would come back changed through JSON (or not at all): they go as msgpack.
  const exact: Array<[string, Message]> = [
    ["bytes", { type: "bytes", data: new Uint8Array([0, 1, 255]) }],
    ["a bigint", { type: "big", value: 2n ** 62n }],
    ["a date", { type: "date", at: new Date(1_700_000_000_000) }],
    ["undefined (arrives as null, as msgpack has it)", { type: "undefined", value: undefined }],
    ["NaN", { type: "nan", value: Number.NaN }],
    ["an infinity", { type: "inf", value: Number.NEGATIVE_INFINITY }],
    ["bytes deep inside", { type: "deep", list: [{ inner: [new Uint8Array([7])] }] }],
  ];
  for (const [what, message] of exact) {
    it(`keeps ${what} exactly, through msgpack`, () => {
      const payload = toWire(message);
      expect(payload.startsWith("{")).toBe(false);
      const back = fromWire(payload) as Record<string, unknown>;
      if (what.startsWith("undefined")) expect(back).toEqual({ type: "undefined", value: null });
      else expect(back).toEqual(message as Record<string, unknown>);
    });
  }

  it("never puts a newline in a payload, which a group-send batch uses to separate them", () => {
    for (const message of [
      { type: "t", text: "one\ntwo\r\n" },
      { type: "t", bytes: new Uint8Array(300).fill(10) },
    ]) {
      expect(toWire(message)).not.toContain("\n");
    }
  });

  it("refuses a payload that is not a message, in either form", () => {
    expect(() => fromWire('{"no":"type"}')).toThrow();
    expect(() => fromWire("{not json")).toThrow();
    expect(() => fromWire("!!!")).toThrow();
  });

  it("reads a list entry whose JSON payload holds colons", () => {
    const payload = toWire({ type: "t", url: "http://x:1/" });
    const entry = decodeEntry(encodeEntry(123, "specific.p!abc", payload));
    expect(entry).toEqual({
      expiresAt: 123,
      channel: "specific.p!abc",
      message: { type: "t", url: "http://x:1/" },
    });
  });
});
