/** Untrusted JSON within MAX_JSON_DEPTH: the text scan, `parseJson`, and `readJson` in a view. */
import { describe, expect, it } from "bun:test";
import type { Context } from "hono";
import { createApp, getSettings, InvalidJsonError, parseJson, readJson } from "../../src/index.ts";
import { jsonDepthExceeds } from "../../src/security/json-depth.ts";
import { thrown } from "../_support/errors.ts";

const nested = (depth: number) => `${"[".repeat(depth)}${"]".repeat(depth)}`;

describe("jsonDepthExceeds()", () => {
  it.each([
    ["1", 0, false],
    ['"[[["', 0, false],
    ["[]", 0, true],
    ["[]", 1, false],
    ['{"a":[1]}', 1, true],
    ['{"a":[1]}', 2, false],
    ['[[],[],{"b":1}]', 2, false],
    ['[[],[],{"b":{}}]', 2, true],
    ['["\\"", [[]]]', 2, true],
    ['["\\\\", [[]]]', 2, true],
    ['["\\\\[[[[", []]', 2, false],
  ] as const)("%s deeper than %d: %p", (text, maxDepth, expected) => {
    expect(jsonDepthExceeds(text, maxDepth)).toBe(expected);
  });

  it("measures a million levels without using the stack", () => {
    expect(jsonDepthExceeds(nested(1_000_000), 1000)).toBe(true);
    expect(jsonDepthExceeds(nested(1_000_000), 1_000_000)).toBe(false);
  });
});

describe("parseJson()", () => {
  it("parses JSON up to MAX_JSON_DEPTH by default", () => {
    const limit = getSettings().maxJsonDepth;
    expect(parseJson(nested(limit))).toEqual(JSON.parse(nested(limit)));
    expect(parseJson('{"a":[1,"]]"]}', 2)).toEqual({ a: [1, "]]"] });
  });

  it.each([
    ["not JSON", "{nope", 64, "syntax"],
    ["an empty text", "", 64, "syntax"],
    ["the default limit plus one", nested(getSettings().maxJsonDepth + 1), undefined, "depth"],
    ["a given limit plus one", nested(3), 2, "depth"],
    ["the 2,500 levels of issue 13", `{"topic":"x","data":${nested(2500)}}`, 64, "depth"],
  ] as const)("refuses %s with InvalidJsonError", (_what, text, maxDepth, reason) => {
    const error = thrown(() => parseJson(text, maxDepth));
    expect(error).toBeInstanceOf(InvalidJsonError);
    expect(error).toMatchObject({ code: "INVALID_JSON", reason });
  });
});

describe("readJson() in a view", () => {
  const app = createApp({
    manifest: {
      routes: [
        { file: "echo.ts", module: { POST: async (c: Context) => c.json({ body: await readJson(c) }) } },
        {
          file: "shallow.ts",
          module: { POST: async (c: Context) => c.json({ body: await readJson(c, { maxDepth: 1 }) }) },
        },
      ],
      consumers: [],
    },
  });
  const post = (path: string, body: string) => app.request(path, { method: "POST", body });

  it("returns the parsed body, whatever the content type", async () => {
    const response = await post("/echo", '{"a":[1,{"b":null}]}');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ body: { a: [1, { b: null }] } });
  });

  it.each([
    ["not JSON", "/echo", "{nope"],
    ["empty", "/echo", ""],
    ["nested 2,500 deep", "/echo", `{"topic":"x","data":${nested(2500)}}`],
    ["nested past the limit the view gives", "/shallow", '{"a":[]}'],
  ])("answers a body that is %s with 400 INVALID_JSON", async (_what, path, body) => {
    const response = await post(path, body);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: "INVALID_JSON", message: expect.any(String) });
  });
});
