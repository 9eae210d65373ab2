import { describe, expect, it } from "bun:test";
import type { IncomingMessage } from "node:http";
import { upgradeHeaders, upgradeUrl } from "../../src/adapters/node-upgrade-request.ts";

describe("upgradeHeaders()", () => {
  it("keeps every value of a repeated name, whatever its case, as a view sees them", () => {
    const headers = upgradeHeaders(["Authorization", "Bearer x", "authorization", "Bearer y"], undefined);
    expect(headers?.get("authorization")).toBe("Bearer x, Bearer y");
  });

  it("keeps an empty value", () => {
    expect(upgradeHeaders(["Host", "a", "Authorization", ""], undefined)?.has("authorization")).toBe(true);
  });

  it("joins cookies with '; ', as Node's parsed value has them", () => {
    const headers = upgradeHeaders(["Cookie", "a=1", "Host", "h", "cookie", "b=2"], "a=1; b=2");
    expect(headers?.get("cookie")).toBe("a=1; b=2");
    expect(headers?.get("host")).toBe("h");
  });
});

describe("upgradeUrl()", () => {
  const request = (url: string, host?: string) =>
    ({ url, headers: host === undefined ? {} : { host }, socket: {} }) as unknown as IncomingMessage;

  it("joins Host and target without parsing when both are plain", () => {
    expect(upgradeUrl(request("/chat/lobby?x=1", "127.0.0.1:8000"))).toBe(
      "http://127.0.0.1:8000/chat/lobby?x=1",
    );
  });

  it("normalises a target with dot segments or escapes", () => {
    expect(upgradeUrl(request("/a/../echo", "h"))).toBe("http://h/echo");
    expect(upgradeUrl(request("/caf%C3%A9 x", "h"))).toBe("http://h/caf%C3%A9%20x");
  });

  it("refuses a Host that would move into the path or userinfo, and a backslash in the path", () => {
    expect(upgradeUrl(request("/echo", "evil.com/x"))).toBeNull();
    expect(upgradeUrl(request("/echo", "user@evil.com"))).toBeNull();
    expect(upgradeUrl(request("/a\\b", "h"))).toBeNull();
    expect(upgradeUrl(request("*", "h"))).toBeNull();
  });

  it("takes an absolute-form target as it is", () => {
    expect(upgradeUrl(request("http://h:1/echo", "other"))).toBe("http://h:1/echo");
  });
});
