/**
 * A periodic task's schedule on a fake clock: when it runs, that it never overlaps itself, that an
 * error keeps the schedule, that only the lease holder runs, and that stopping waits for the run.
 */
import { describe, expect, it } from "bun:test";
import type { Leases } from "../../src/background/lease.ts";
import { localLeases } from "../../src/background/lease.ts";
import { parseEvery, type TaskContext, toTask } from "../../src/background/task.ts";
import { TaskRunner } from "../../src/background/task-runner.ts";
import { InMemoryChannelLayer } from "../../src/layers/memory.ts";
import type { Logger } from "../../src/log.ts";
import { FakeClock } from "./_fake-clock.ts";

function recorder(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const log = (message: string) => void lines.push(message);
  return { lines, debug: log, info: log, warn: log, error: log };
}

/** Leases held in one map, as processes sharing one Redis would see them. */
function sharedLeases(clock: FakeClock): Leases {
  const held = new Map<string, { holder: string; until: number }>();
  return {
    async acquire(name, holder, ttlMs) {
      const current = held.get(name);
      if (current && current.holder !== holder && current.until > clock.now()) return false;
      held.set(name, { holder, until: clock.now() + ttlMs });
      return true;
    },
    async release(name, holder) {
      if (held.get(name)?.holder === holder) held.delete(name);
    },
  };
}

function runner(
  clock: FakeClock,
  run: (context: TaskContext) => unknown,
  options: { leases?: Leases; holder?: string } = {},
) {
  const logger = recorder();
  const task = { name: "probe", everyMs: 1000, run };
  const taskRunner = new TaskRunner({
    task,
    context: { layer: new InMemoryChannelLayer(), logger },
    leases: options.leases ?? localLeases,
    holder: options.holder ?? "this-process",
    clock,
    logger,
  });
  return { taskRunner, logger };
}

describe("TaskRunner", () => {
  it("runs once per interval, starting one interval after start", async () => {
    const clock = new FakeClock();
    const runs: number[] = [];
    const { taskRunner } = runner(clock, () => void runs.push(clock.now()));
    taskRunner.start();
    await clock.advance(3500);
    expect(runs).toEqual([1000, 2000, 3000]);
    await taskRunner.stop();
  });

  it("keeps its schedule after a run throws, logging the error and counting the failure", async () => {
    const clock = new FakeClock();
    let calls = 0;
    const { taskRunner, logger } = runner(clock, () => {
      calls++;
      if (calls === 1) throw new Error("boom");
    });
    taskRunner.start();
    await clock.advance(3500);
    expect(calls).toBe(3);
    expect(taskRunner.stats).toMatchObject({ runs: 3, failures: 1 });
    expect(logger.lines).toEqual(["task probe failed"]);
    await taskRunner.stop();
  });

  it("never overlaps itself: a run longer than the interval delays the next", async () => {
    const clock = new FakeClock();
    let running = 0;
    let most = 0;
    const starts: number[] = [];
    const { taskRunner } = runner(clock, async () => {
      starts.push(clock.now());
      running++;
      most = Math.max(most, running);
      await clock.sleep(2500);
      running--;
    });
    taskRunner.start();
    await clock.advance(7000);
    expect(most).toBe(1);
    expect(starts).toEqual([1000, 3500, 6000]);
    const stopping = taskRunner.stop(); // waits for the run in progress, which waits for the clock
    await clock.advance(2500);
    await stopping;
  });

  it("runs in one process of several; another takes over within two intervals when the holder stops renewing", async () => {
    const clock = new FakeClock();
    const leases = sharedLeases(clock);
    const runs: string[] = [];
    const a = runner(clock, () => void runs.push("a"), { leases, holder: "a" });
    const b = runner(clock, () => void runs.push("b"), { leases, holder: "b" });
    a.taskRunner.start();
    b.taskRunner.start();
    await clock.advance(4500);
    expect(runs).toEqual(["a", "a", "a", "a"]);
    // The holder dies without giving its lease back: its lease lapses, b takes over.
    const diedAt = clock.now();
    let takenOverAt = 0;
    const dying = a.taskRunner.stop();
    leases.release = async () => {}; // a dead process gives nothing back
    await dying;
    runs.length = 0;
    while (!runs.includes("b")) {
      await clock.advance(100);
      takenOverAt = clock.now();
    }
    expect(takenOverAt - diedAt).toBeLessThanOrEqual(2000);
    await clock.advance(3000);
    expect(runs.every((who) => who === "b")).toBe(true);
    await b.taskRunner.stop();
  });

  it("stop() waits for the run in progress and aborts its signal", async () => {
    const clock = new FakeClock();
    let aborted = false;
    let finished = false;
    const { taskRunner } = runner(clock, async ({ signal }) => {
      await clock.sleep(5000, signal);
      aborted = signal.aborted;
      finished = true;
    });
    taskRunner.start();
    await clock.advance(1500);
    await taskRunner.stop();
    expect({ aborted, finished }).toEqual({ aborted: true, finished: true });
  });

  it("aborts a run's signal when its lease cannot be renewed, before another process could start it", async () => {
    const clock = new FakeClock();
    let renewals = 0;
    const losing: Leases = {
      acquire: async () => renewals++ === 0, // taken for the run, then refused: another holder has it
      release: async () => {},
    };
    let abortedAt = null as number | null;
    const { taskRunner, logger } = runner(
      clock,
      async ({ signal }) => {
        await clock.sleep(5000, signal);
        if (signal.aborted) abortedAt = clock.now();
      },
      { leases: losing },
    );
    taskRunner.start();
    await clock.advance(2000);
    // Run at 1000; the renewal half an interval later (1500) is refused: the signal aborts then,
    // before the other holder's lease (taken at the earliest when ours lapses) lets it run.
    expect(abortedAt).toBe(1500);
    expect(logger.lines).toContain("task probe: lost its lease while running; its signal aborts");
    await taskRunner.stop();
  });

  it("does not run while the lease cannot be taken (the layer is away)", async () => {
    const clock = new FakeClock();
    const runs: number[] = [];
    const away: Leases = {
      acquire: async () => {
        throw new Error("redis is down");
      },
      release: async () => {},
    };
    const { taskRunner, logger } = runner(clock, () => void runs.push(clock.now()), { leases: away });
    taskRunner.start();
    await clock.advance(3000);
    expect(runs).toEqual([]);
    expect(logger.lines[0]).toContain("cannot take its lease: redis is down");
    await taskRunner.stop();
  });
});

describe("task files", () => {
  it("reads every as seconds or a string with a unit", () => {
    expect(parseEvery(10, "t")).toBe(10_000);
    expect(parseEvery(0.5, "t")).toBe(500);
    expect(parseEvery("250ms", "t")).toBe(250);
    expect(parseEvery("5m", "t")).toBe(300_000);
    expect(parseEvery("1h", "t")).toBe(3_600_000);
  });

  it.each([[undefined], ["soon"], [0], [-1], [Number.NaN], ["10 days"], [0.01], ["720h"], [3_000_000]])(
    "refuses every = %p naming the file",
    (every) => {
      expect(() => toTask("tick.ts", { every, default: () => {} })).toThrow(
        /tasks\/tick\.ts: export const every/,
      );
    },
  );

  it("refuses a file without a default function", () => {
    expect(() => toTask("tick.ts", { every: 1 })).toThrow(/must default-export the function/);
  });
});
