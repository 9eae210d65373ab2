import { afterEach, describe, expect, it, spyOn } from "bun:test";
import { createLogger } from "../src/log.ts";

/** Captures what the logger prints, per console method. */
function capture() {
  const lines: { method: string; data: unknown[] }[] = [];
  const spies = (["debug", "info", "warn", "error"] as const).map((method) =>
    spyOn(console, method).mockImplementation((...data: unknown[]) => {
      lines.push({ method, data });
    }),
  );
  const restoreAll = () => {
    for (const spy of spies) spy.mockRestore();
  };
  return { lines, restore: restoreAll };
}

let restore = () => {};
afterEach(() => restore());

describe("createLogger()", () => {
  it("says which levels it writes, so callers can skip building lines it would drop", () => {
    const logger = createLogger("warn");
    expect(["debug", "info", "warn", "error"].map((level) => logger.logs?.(level as "info"))).toEqual([
      false,
      false,
      true,
      true,
    ]);
    expect(createLogger("silent").logs?.("error")).toBe(false);
    expect(createLogger("debug").logs?.("debug")).toBe(true);
  });

  it("writes json lines that parse, with time, level, msg and the details", () => {
    const out = capture();
    restore = out.restore;
    const logger = createLogger("debug", "json");
    logger.info("websocket open", { path: "/echo", code: 1000 });
    logger.error("boom", { error: new TypeError("bad thing") });
    expect(out.lines.map((line) => line.data.length)).toEqual([1, 1]);
    const [open, boom] = out.lines.map((line) => JSON.parse(line.data[0] as string));
    expect(open).toMatchObject({ level: "info", msg: "websocket open", path: "/echo", code: 1000 });
    expect(new Date(open.time).toISOString()).toBe(open.time);
    expect(boom.level).toBe("error");
    expect(boom.error).toMatchObject({ name: "TypeError", message: "bad thing" });
    expect(boom.error.stack).toContain("bad thing");
  });

  it("keeps its own time, level and msg over details of the same name", () => {
    const out = capture();
    restore = out.restore;
    createLogger("info", "json").info("real", { msg: "fake", level: "fake", extra: 1 });
    expect(JSON.parse(out.lines[0]?.data[0] as string)).toMatchObject({
      msg: "real",
      level: "info",
      extra: 1,
    });
  });

  it("still writes a line when details cannot be serialised", () => {
    const out = capture();
    restore = out.restore;
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    createLogger("info", "json").warn("odd", { cycle, big: 1n });
    expect(JSON.parse(out.lines[0]?.data[0] as string)).toMatchObject({ level: "warn", msg: "odd" });
  });

  it("drops lines below its level, in both formats", () => {
    const out = capture();
    restore = out.restore;
    for (const format of ["text", "json"] as const) {
      const logger = createLogger("warn", format);
      logger.debug("d");
      logger.info("i");
      logger.warn("w");
      logger.error("e");
    }
    expect(out.lines.map((line) => line.method)).toEqual(["warn", "error", "warn", "error"]);
    createLogger("silent", "json").error("nothing");
    expect(out.lines).toHaveLength(4);
  });

  it("writes plain details on the text line itself, and keeps objects for the console", () => {
    const out = capture();
    restore = out.restore;
    const logger = createLogger("info");
    logger.info("http request", { method: "GET", path: "/a b", status: 200 });
    const error = new Error("x");
    logger.error("failed", { error });
    const [plain, withError] = out.lines;
    expect(plain?.data).toHaveLength(1);
    const text = plain?.data[0] as string;
    for (const part of ["http request", "GET", '"/a b"', "200"]) expect(text).toContain(part);
    expect(withError?.data[1]).toEqual({ error });
  });
});
