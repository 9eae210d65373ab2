/**
 * `TestClient`: the whole app (middleware, views and consumers, as `createApp` mounts them) driven
 * in-process, for HTTP requests and WebSocket connections, with no server and no sockets. Token
 * middleware, an origin check, a view that pushes to a group and the consumers that receive it can
 * be tested together. Upgrades go through the same handler and runner as on a real server.
 * @example
 * const client = new TestClient({ manifest: await scanProject(root), layer: new InMemoryChannelLayer() });
 * const socket = await client.connect("/chat/lobby?token=" + token);
 * expect(socket.accepted).toBe(true);
 * await client.request("/api/announce", { method: "POST", body: JSON.stringify({ text: "hi" }) });
 * expect(await socket.receiveJsonFrom()).toMatchObject({ type: "chat.message" });
 */
import type { Hono } from "hono";
import type { Runtime, SocketEvents } from "../adapters/runtime.ts";
import { type AppOptions, createApp } from "../app.ts";
import { ConnectionSet } from "../consumer/connections.ts";
import type { Frame } from "../consumer/frames.ts";
import type { ConsumerRunner } from "../consumer/runner.ts";
import { CommunicatorError } from "../errors.ts";
import { ClientEnd, within } from "./client-end.ts";

// Links an upgrade request to the test connection waiting for it.
const SOCKET_HEADER = "x-test-client-socket";
// Headers a browser sends with every upgrade; a test's own headers (Origin, cookies...) add to them.
const HANDSHAKE = {
  upgrade: "websocket",
  connection: "Upgrade",
  "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
  "sec-websocket-version": "13",
};

/** Options of `TestClient`: those of `createApp`, except the runtime and connections it provides. */
export type TestClientOptions = Omit<AppOptions, "runtime" | "connections">;

/** Options of `TestClient.connect`. */
export interface TestConnectOptions {
  /** Request headers: `Origin`, `Authorization`, `Cookie`... */
  headers?: Record<string, string>;
  /** Subprotocols offered, in order of preference. */
  subprotocols?: string[];
}

/** What the app's upgrade handed the runtime: the socket events, and the subprotocol chosen. */
interface Upgraded {
  events: SocketEvents;
  subprotocol: string | null;
}

/** Runs an app for HTTP requests and WebSocket connections without a server. */
export class TestClient {
  /** The app under test; `request()` is `app.request()`. */
  readonly app: Hono;
  readonly #connections = new ConnectionSet();
  readonly #waiting = new Map<string, (upgrade: Upgraded) => void>();

  constructor(options: TestClientOptions) {
    const runtime: Pick<Runtime, "upgrade" | "client"> = {
      upgrade: (c, options, events) => {
        this.#waiting.get(c.req.header(SOCKET_HEADER) ?? "")?.({ events, subprotocol: options.subprotocol });
        // Any non-error answer means "upgraded" to the handler; 101 cannot be built with `Response`.
        return new Response(null, { status: 200 });
      },
      client: () => ({ address: "127.0.0.1", port: 0 }),
    };
    this.app = createApp({ ...options, runtime, connections: this.#connections });
  }

  /** An HTTP request through the whole app. */
  request(path: string, init?: RequestInit): Promise<Response> {
    return Promise.resolve(this.app.request(path, init));
  }

  /** Opens a WebSocket at `path` (with its query string), as a browser would. */
  async connect(path: string, options: TestConnectOptions = {}): Promise<TestSocket> {
    const id = crypto.randomUUID();
    const upgraded = new Promise<Upgraded>((resolve) => this.#waiting.set(id, resolve));
    const headers: Record<string, string> = { ...HANDSHAKE, ...options.headers, [SOCKET_HEADER]: id };
    if (options.subprotocols) headers["sec-websocket-protocol"] = options.subprotocols.join(", ");
    try {
      const response = await this.app.request(path, { headers });
      const runner = this.#connections.find((each) => each.scope.headers.get(SOCKET_HEADER) === id);
      if (response.status >= 300 || !runner) return TestSocket.refused(response.status);
      return TestSocket.accepted(await upgraded, runner);
    } finally {
      this.#waiting.delete(id);
    }
  }
}

/** One WebSocket opened by a `TestClient`. */
export class TestSocket extends ClientEnd {
  /** Whether the handshake was accepted. */
  readonly accepted: boolean;
  /** 101 when accepted; else the HTTP status of the refusal (403, 401 from auth, 400...). */
  readonly status: number;
  /** The subprotocol the consumer accepted, if any. */
  readonly subprotocol: string | null;
  readonly #events: SocketEvents | null;
  readonly #runner: ConsumerRunner | null;

  private constructor(status: number, upgraded: Upgraded | null, runner: ConsumerRunner | null) {
    const events = upgraded?.events ?? null;
    // When the server closes, the client answers, as a browser does: that ends the connection.
    super(undefined, (code) => events?.closed(code));
    this.accepted = events !== null;
    this.status = status;
    this.subprotocol = upgraded?.subprotocol ?? null;
    this.#events = events;
    this.#runner = runner;
  }

  /** A refused handshake: `status` is the HTTP answer. */
  static refused(status: number): TestSocket {
    return new TestSocket(status, null, null);
  }

  /** An accepted handshake: the socket opens at once. */
  static accepted(upgraded: Upgraded, runner: ConsumerRunner): TestSocket {
    const socket = new TestSocket(101, upgraded, runner);
    upgraded.events.open(socket.peer);
    return socket;
  }

  /** Sends a text or binary frame, as the client. */
  override async sendTo(frame: Frame): Promise<void> {
    if (!this.#events) throw new CommunicatorError("NOT_CONNECTED", "sendTo() on a refused connection");
    this.assertOpen();
    this.#events.receive(frame.text ?? frame.bytes);
  }

  /** Closes as the client would, and waits until the consumer's `disconnect()` has run. */
  async close(code = 1000, timeoutMs = 1000): Promise<void> {
    if (!this.#events || !this.#runner) return;
    this.#events.closed(code);
    await within(this.#runner.finished, timeoutMs, "end of disconnect()");
  }
}
