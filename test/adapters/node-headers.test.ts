import { describe, expect, it } from "bun:test";
import { parsedHeadersLostSome } from "../../src/adapters/node.ts";

describe("parsedHeadersLostSome()", () => {
  it("is false for distinct names with values: the upgrade request is used as built", () => {
    expect(parsedHeadersLostSome(["Host", "a", "Upgrade", "websocket", "Authorization", "Bearer x"])).toBe(
      false,
    );
  });

  it("is true for a repeated name, whatever its case: Node's parsed headers keep only the first", () => {
    expect(parsedHeadersLostSome(["Authorization", "Bearer x", "authorization", "Bearer y"])).toBe(true);
  });

  it("is true for an empty value, which the upgrade request leaves out and a view sees", () => {
    expect(parsedHeadersLostSome(["Host", "a", "Authorization", ""])).toBe(true);
  });
});
