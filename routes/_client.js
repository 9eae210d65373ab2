/**
 * The browser side of a consumer, for the starter's pages (served at /client.js):
 *
 *   import { connect } from "/client.js";
 *   const chat = connect("/chat/lobby?name=ada");
 *   chat.on("chat.message", (message) => show(message));
 *   chat.onStatus((status) => badge.textContent = status); // connecting, open, reconnecting, closed
 *   chat.send({ text: "hi" });
 *
 * Messages are JSON both ways, dispatched by their `type`. A connection that drops is opened again
 * after a backoff (0.5 s doubling to 10 s, with jitter) until `close()`; the backoff starts over
 * only once a connection has stayed open for 5 s, so a server that accepts and drops at once is
 * not hammered. Messages sent meanwhile wait (up to 100) and go out once it is open. A close the server chose for a reason the client
 * cannot fix (1008 policy, 1003/1007 bad data, 4000-4999 the app's own) is not retried.
 */
const FIRST_DELAY_MS = 500;
const MAX_DELAY_MS = 10_000;
const MAX_WAITING = 100;
const STABLE_MS = 5_000;
const FINAL_CODES = new Set([1003, 1007, 1008]);

/** Opens a socket to `path` on this page's host and keeps it open. */
export function connect(path) {
  const url = new URL(path, location.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  const handlers = new Map();
  const statusListeners = new Set();
  const waiting = [];
  let socket = null;
  let attempt = 0;
  let closedByUs = false;
  let status = "connecting";
  let retryTimer = null;
  let stableTimer = null;

  const setStatus = (next, detail = {}) => {
    status = next;
    for (const listener of statusListeners) listener(next, detail);
  };

  const open = () => {
    socket = new WebSocket(url);
    socket.onopen = () => {
      stableTimer = setTimeout(() => {
        attempt = 0;
      }, STABLE_MS);
      setStatus("open");
      while (waiting.length > 0 && socket.readyState === WebSocket.OPEN) socket.send(waiting.shift());
    };
    socket.onmessage = (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return; // not JSON: not for this client
      }
      for (const handler of handlers.get(message?.type) ?? []) handler(message);
      for (const handler of handlers.get("*") ?? []) handler(message);
    };
    socket.onclose = (event) => {
      clearTimeout(stableTimer);
      if (closedByUs || FINAL_CODES.has(event.code) || (event.code >= 4000 && event.code < 5000)) {
        setStatus("closed", { code: event.code, reason: event.reason });
        return;
      }
      const delay = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** attempt) * (0.75 + Math.random() / 2);
      attempt++;
      setStatus("reconnecting", { code: event.code, inMs: Math.round(delay) });
      retryTimer = setTimeout(open, delay);
    };
  };
  open();

  return {
    /** Sends `message` as JSON now, or once the socket is open again. */
    send(message) {
      const text = JSON.stringify(message);
      if (socket.readyState === WebSocket.OPEN) socket.send(text);
      else if (waiting.length < MAX_WAITING) waiting.push(text);
    },
    /** Calls `handler` for every message of `type` ("*" for all); returns the way to stop. */
    on(type, handler) {
      if (!handlers.has(type)) handlers.set(type, new Set());
      handlers.get(type).add(handler);
      return () => handlers.get(type).delete(handler);
    },
    /** Calls `listener(status, detail)` now and on every change. */
    onStatus(listener) {
      statusListeners.add(listener);
      listener(status, {});
      return () => statusListeners.delete(listener);
    },
    get status() {
      return status;
    },
    /** Closes for good: no reconnect, no more messages or status changes for this connection. */
    close() {
      if (closedByUs) return;
      closedByUs = true;
      clearTimeout(retryTimer);
      clearTimeout(stableTimer);
      handlers.clear();
      socket.close(1000);
      // Listeners hear "closed" now, once; nothing this connection does later reaches them.
      setStatus("closed", {});
      statusListeners.clear();
    },
  };
}
