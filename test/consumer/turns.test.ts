/**
 * The turn budget counts what the runtime does after the turn for the queues' work (consumer/turns.ts):
 * Deno writes each sent frame then, and its peer says what that costs. Without it, 5 ms of queued
 * work left 40-50 ms of writing behind, and a probe in another room waited 100-170 ms.
 */
import { describe, expect, it } from "bun:test";
import type { Peer } from "../../src/adapters/runtime.ts";
import { SocketEnd } from "../../src/consumer/socket.ts";
import { chargeTurn, TURN_BUDGET_MS, turnClock } from "../../src/consumer/turns.ts";
import { DEFAULT_LIMITS } from "../../src/security/limits.ts";

/** Waits until the event loop went round: the next `turnClock()` starts a fresh turn. */
async function nextTurn(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
}

function peer(deferredWriteMs?: number): Peer & { sent: number } {
  return {
    sent: 0,
    send() {
      this.sent++;
    },
    close() {},
    bufferedAmount: 0,
    deferredWriteMs,
  };
}

describe("the turn budget", () => {
  it("steps aside once work charged to the turn fills it, and starts the next turn afresh", async () => {
    await nextTurn();
    expect(turnClock()).not.toBeNull();
    chargeTurn(TURN_BUDGET_MS / 2);
    expect(turnClock()).not.toBeNull();
    chargeTurn(TURN_BUDGET_MS / 2 + 0.1);
    expect(turnClock()).toBeNull();
    await nextTurn();
    expect(turnClock()).not.toBeNull();
  });

  it("charges each frame written to a runtime that writes after the turn (Deno)", async () => {
    const socket = new SocketEnd(DEFAULT_LIMITS);
    const deno = peer(1);
    socket.attach(deno);
    await nextTurn();
    expect(turnClock()).not.toBeNull();
    for (let frame = 0; frame < TURN_BUDGET_MS + 1; frame++) socket.write(`frame ${frame}`);
    expect(deno.sent).toBe(TURN_BUDGET_MS + 1);
    expect(turnClock()).toBeNull();
  });

  it("counts a write made before any queue ran in the turn (a relay from a pub/sub message)", async () => {
    const socket = new SocketEnd(DEFAULT_LIMITS);
    const deno = peer(1);
    socket.attach(deno);
    await nextTurn();
    for (let frame = 0; frame < TURN_BUDGET_MS + 1; frame++) socket.write(`frame ${frame}`);
    expect(turnClock()).toBeNull();
    await nextTurn();
    expect(turnClock()).not.toBeNull();
  });

  it("charges nothing for a runtime that writes inside send (Bun, Node): the clock already saw it", async () => {
    const socket = new SocketEnd(DEFAULT_LIMITS);
    const bun = peer();
    socket.attach(bun);
    await nextTurn();
    expect(turnClock()).not.toBeNull();
    for (let frame = 0; frame < 100; frame++) socket.write(`frame ${frame}`);
    expect(bun.sent).toBe(100);
    expect(turnClock()).not.toBeNull();
  });
});
