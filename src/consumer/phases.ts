/** The phases of a connection's life, and the only ways from one to the next (runner.ts moves along them). */
import type { Close } from "./socket.ts";

/**
 * Where a connection is in its life. Only the runner's `#enter()` changes it, and only along `NEXT`.
 *   connecting  connect() is deciding the handshake
 *   accepted    the socket is opening or open; frames and layer messages are handled
 *   closing     the server started a close; nothing more is handled or sent; the client must answer
 *   draining    the client left; the frames it sent before are still handled, then disconnect()
 *   closed      disconnect() is queued or done; nothing more is handled or sent
 */
export type State =
  | { phase: "connecting" }
  | { phase: "accepted" }
  | { phase: "closing"; close: Close }
  | { phase: "draining" }
  | { phase: "closed"; close: Close | null };

// The states without details are shared: an idle connection keeps no object for its state.
export const CONNECTING: State = { phase: "connecting" };
export const ACCEPTED: State = { phase: "accepted" };
export const DRAINING: State = { phase: "draining" };

/** The legal transitions; `closed` is final. */
const NEXT: Record<State["phase"], readonly State["phase"][]> = {
  connecting: ["accepted", "closed"], // accept(); or refused, failed, shut down, client gone
  accepted: ["closing", "draining"], // the server closes; or the client left, the upgrade failed
  closing: ["closed"], // the client answered, or did not in time, or the socket broke
  draining: ["closed"], // the frames ahead of disconnect() have run
  closed: [],
};

/** Whether a connection may go from `from` to `to`. */
export function canMove(from: State["phase"], to: State["phase"]): boolean {
  return NEXT[from].includes(to);
}
