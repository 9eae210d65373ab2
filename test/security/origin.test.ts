import { describe, expect, it } from "bun:test";
import { createOriginPolicy, isValidOriginRule } from "../../src/security/origin.ts";

describe("createOriginPolicy()", () => {
  const host = "app.example.com:8000";

  it.each([
    // [allowed, production, origin, expected]
    [null, false, undefined, true],
    [null, false, "http://app.example.com:8000", true],
    [null, false, "http://localhost:5173", true],
    [null, false, "http://127.0.0.1:3000", true],
    [null, false, "http://[::1]:3000", true],
    [null, false, "https://evil.example.org", false],
    [null, true, "http://localhost:5173", false],
    [null, true, "http://app.example.com:8000", true],
    [null, true, "null", false],
    [["https://app.example.com"], true, "https://app.example.com", true],
    [["https://app.example.com"], true, "http://app.example.com", false],
    [["https://app.example.com"], true, "https://app.example.com.evil.org", false],
    [["*.example.com"], true, "https://a.example.com", true],
    [["*.example.com"], true, "http://b.c.example.com:81", true],
    [["*.example.com"], true, "https://example.com", false],
    [["*.example.com"], true, "https://evilexample.com", false],
    [["https://*.example.com"], true, "http://a.example.com", false],
    [["*"], true, "https://anything.test", true],
    [["*"], true, "not a url", false],
    [["https://app.example.com:443"], true, "https://app.example.com", true],
    [["*.example.com:8443"], true, "https://a.example.com:8443", true],
    [["*.example.com:8443"], true, "https://a.example.com", false],
    // ALLOWED_ORIGINS set: only the list counts, not the request's own Host (app.example.com:8000).
    [["https://app.example.com"], true, "http://app.example.com:8000", false],
    [["https://app.example.com"], false, "http://app.example.com:8000", false],
    [["https://app.example.com"], false, "http://localhost:5173", false],
    [[], true, "http://app.example.com:8000", false],
    [["https://app.example.com"], true, "https://app.example.com:8443", false],
    // Wildcards: the scheme when the rule names one, the port when it names one (default ports count).
    [["http://*.example.com"], true, "https://a.example.com", false],
    [["https://*.example.com"], true, "https://a.example.com:8443", true],
    [["https://*.example.com:443"], true, "https://a.example.com", true],
    [["https://*.example.com:443"], true, "https://a.example.com:8443", false],
    [["*.example.com:443"], true, "http://a.example.com", false],
    [["*.example.com:443"], true, "https://a.example.com", true],
    [["*.example.com:80"], true, "http://a.example.com", true],
    [["*.example.com"], true, "ws://a.example.com", false],
  ] as const)("allowed=%j production=%p: %s -> %p", (allowed, production, origin, expected) => {
    const policy = createOriginPolicy(allowed === null ? null : [...allowed], production);
    expect(policy(origin, host)).toBe(expected);
  });

  it("compares the Origin host with the Host header case-insensitively", () => {
    expect(createOriginPolicy(null, true)("http://APP.example.com:8000", "app.EXAMPLE.com:8000")).toBe(true);
  });

  it("with ALLOWED_ORIGINS set, refuses an Origin matching a Host the client chose (DNS rebinding)", () => {
    const policy = createOriginPolicy(["https://app.example.com", "https://*.example.com"], true);
    expect(policy("http://evil.test:8000", "evil.test:8000")).toBe(false);
    expect(policy("http://app.example.com", "app.example.com")).toBe(false);
    expect(policy("https://app.example.com", "evil.test:8000")).toBe(true);
  });
});

describe("isValidOriginRule()", () => {
  it.each(["https://a.com", "*.a.com", "https://*.a.com", "*", "http://localhost:3000"])(
    "accepts %s",
    (rule) => {
      expect(isValidOriginRule(rule)).toBe(true);
    },
  );

  it.each([
    "not a url",
    "a.com",
    "https://*.",
    "",
    "https://a.com/path",
    "ftp://a.com",
    "ftp://*.a.com",
    "ws://*.a.com",
    "*.a.com:99999",
  ])("refuses %j", (rule) => {
    expect(isValidOriginRule(rule)).toBe(false);
  });
});
