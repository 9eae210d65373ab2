import { beforeEach, describe, expect, it } from "bun:test";
import { type BunSocket, bunPeer } from "../../src/adapters/bun.ts";
import { HOLD_MAX_BYTES, HOLD_MAX_MS, noteDeferredTurn } from "../../src/adapters/coalesce.ts";
import { type NodeSocket, nodePeer } from "../../src/adapters/node.ts";

/** A Bun socket that records each write, and which writes went out inside one cork. */
function fakeSocket() {
  const log: string[] = [];
  let corked = false;
  let backlog = 0;
  const ws: BunSocket = {
    send(data) {
      log.push(`${corked ? "corked " : ""}${String(data)}`);
    },
    cork(callback) {
      corked = true;
      callback();
      corked = false;
      log.push("uncork");
    },
    close(code) {
      log.push(`close ${code}`);
    },
    terminate() {
      log.push("terminate");
    },
    subscribe(topic) {
      log.push(`subscribe ${topic}`);
    },
    unsubscribe(topic) {
      log.push(`unsubscribe ${topic}`);
    },
    getBufferedAmount: () => backlog,
  };
  return {
    ws,
    log,
    setBacklog: (bytes: number) => {
      backlog = bytes;
    },
  };
}

/** Resolves after the current turn of the event loop has ended. */
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));
/**
 * Resolves once held frames must be out: at the end of this turn, or, if other code in this process
 * is mid-burst (the runner deferring work), after HOLD_MAX_MS at most.
 */
const released = () => new Promise((resolve) => setTimeout(resolve, 2 * HOLD_MAX_MS));

describe("bunPeer()", () => {
  // Whatever ran before (a burst in another test) has ended.
  beforeEach(released);

  it("writes a turn's first frame at once, holds the rest, and writes them in order in one cork", async () => {
    const { ws, log } = fakeSocket();
    const peer = bunPeer(ws);
    peer.send("a");
    expect(log).toEqual(["a"]); // one frame per turn (echo) costs nothing more than before
    peer.send("b");
    peer.send("c");
    expect(log).toEqual(["a"]);
    await released();
    expect(log).toEqual(["a", "corked b", "corked c", "uncork"]);
    peer.send("d"); // a new turn: straight out again
    expect(log.at(-1)).toBe("d");
  });

  it("writes what it holds before a close frame", () => {
    const { ws, log } = fakeSocket();
    const peer = bunPeer(ws);
    for (const frame of ["a", "b", "c"]) peer.send(frame);
    peer.close(1000, "");
    expect(log).toEqual(["a", "corked b", "corked c", "uncork", "close 1000"]);
  });

  it("counts held frames in bufferedAmount, so the slow-client limit sees them", () => {
    const { ws, setBacklog } = fakeSocket();
    const peer = bunPeer(ws);
    setBacklog(100);
    peer.send("a");
    peer.send("x".repeat(1000));
    peer.send(new Uint8Array(24));
    expect(peer.bufferedAmount).toBe(100 + 1000 + 24);
  });

  it("in a burst, holds a socket's frames across turns in order, then writes them when it ends", async () => {
    const { ws, log } = fakeSocket();
    const peer = bunPeer(ws);
    const sent: string[] = [];
    for (let t = 0; t < 4; t++) {
      noteDeferredTurn(); // the runner ran out of budget this turn
      sent.push(`t${t}`);
      peer.send(`t${t}`);
      await nextTurn();
    }
    await released(); // no more deferred work: the burst is over, everything is out
    expect(log.filter((line) => line !== "uncork").map((line) => line.replace("corked ", ""))).toEqual(sent);
    // Fewer writes than frames: the frames of consecutive burst turns went out together.
    expect(log.filter((line) => line === "uncork").length).toBeLessThan(sent.length);
  });

  it("releases a socket holding HOLD_MAX_BYTES at the end of the turn, even in a burst", async () => {
    const { ws, log } = fakeSocket();
    const peer = bunPeer(ws);
    const big = "x".repeat(HOLD_MAX_BYTES);
    noteDeferredTurn();
    peer.send("a");
    await nextTurn();
    noteDeferredTurn();
    peer.send(big); // streaming in a burst: held
    expect(log).toEqual(["a"]);
    await nextTurn();
    expect(log).toEqual(["a", `corked ${big}`, "uncork"]);
  });
});

describe("nodePeer()", () => {
  beforeEach(released);

  /** A ws socket whose TCP socket records corks; a frame written while corked waits for uncork. */
  function fakeWs() {
    const log: string[] = [];
    let corks = 0;
    const tcp = {
      cork() {
        corks++;
      },
      uncork() {
        corks--;
        log.push("uncork");
      },
    };
    const ws = {
      _socket: tcp,
      send(data: string) {
        log.push(`${corks > 0 ? "corked " : ""}${data}`);
      },
      close(code: number) {
        log.push(`${corks > 0 ? "corked " : ""}close ${code}`);
      },
      terminate() {},
      bufferedAmount: 0,
    };
    return { peer: nodePeer(ws as unknown as NodeSocket), log };
  }

  it("writes a turn's first frame at once and corks the TCP socket for the rest until the turn ends", async () => {
    const { peer, log } = fakeWs();
    peer.send("a");
    peer.send("b");
    peer.send("c");
    expect(log).toEqual(["a", "corked b", "corked c"]);
    await released();
    expect(log).toEqual(["a", "corked b", "corked c", "uncork"]);
  });

  it("uncorks before the close frame, which follows the frames sent before it", () => {
    const { peer, log } = fakeWs();
    peer.send("a");
    peer.send("b");
    peer.close(1000, "");
    expect(log).toEqual(["a", "corked b", "uncork", "close 1000"]);
  });
});
