/**
 * The client's end of a test connection: the `Peer` the server side writes to, and the reads a
 * test makes of what arrived (frames in order, then the close). The base of
 * `WebsocketCommunicator` (one consumer) and of `TestClient`'s sockets (the whole app).
 */
import type { Peer } from "../adapters/runtime.ts";
import type { Frame } from "../consumer/frames.ts";
import { CommunicatorError, CommunicatorTimeout, ConnectionClosed } from "../errors.ts";

type Output = { frame: Frame } | { close: { code: number; reason: string } };

/** What the server sent to one test client, read in order; subclasses say how a frame is sent. */
export abstract class ClientEnd {
  /** The socket the server side writes to. */
  protected readonly peer: Peer;
  readonly #lastError: () => unknown;
  #outputs: Output[] = [];
  #wake: (() => void) | null = null;
  /** The close the server sent, once a test has taken it: later reads fail with it. */
  #closed: { code: number; reason: string } | null = null;

  /** `lastError` names the server-side error to cite when the connection closed unexpectedly. */
  protected constructor(lastError: () => unknown = () => undefined, onClose?: (code: number) => void) {
    this.#lastError = lastError;
    this.peer = {
      send: (data) => this.#output({ frame: typeof data === "string" ? { text: data } : { bytes: data } }),
      close: (code, reason) => {
        this.#output({ close: { code, reason } });
        onClose?.(code);
      },
      bufferedAmount: 0,
    };
  }

  /** Sends a text or binary frame to the server side, as the client. */
  abstract sendTo(frame: Frame): Promise<void>;

  /** Sends `data` as a JSON text frame. */
  async sendJsonTo(data: unknown): Promise<void> {
    await this.sendTo({ text: JSON.stringify(data) });
  }

  /** Throws `ConnectionClosed` once the test has seen the server's close. */
  protected assertOpen(): void {
    if (this.#closed) throw this.#closedError(this.#closed);
  }

  /** The next frame; throws `ConnectionClosed` if the server closed instead. */
  async receiveFrom(timeoutMs = 1000): Promise<Frame> {
    const output = await this.#next(timeoutMs, "frame");
    if ("close" in output) throw this.#closedError(output.close);
    return output.frame;
  }

  /** The next frame, parsed as JSON; throws if it is binary. */
  async receiveJsonFrom(timeoutMs = 1000): Promise<unknown> {
    const frame = await this.receiveFrom(timeoutMs);
    if (frame.text === undefined)
      throw new CommunicatorError("NOT_TEXT", "Expected a JSON text frame, got a binary one.");
    return JSON.parse(frame.text);
  }

  /** The close the server started, skipping no frames: throws if a frame comes first. */
  async receiveClose(timeoutMs = 1000): Promise<{ code: number; reason: string }> {
    const output = await this.#next(timeoutMs, "close");
    if ("frame" in output)
      throw new CommunicatorError(
        "UNEXPECTED_FRAME",
        `Expected a close, got ${JSON.stringify(output.frame)}.`,
      );
    return output.close;
  }

  /** True if the server sends nothing (and does not close) within `timeoutMs`. */
  async receiveNothing(timeoutMs = 100): Promise<boolean> {
    if (this.#outputs.length > 0) return false;
    await new Promise((resolve) => setTimeout(resolve, timeoutMs));
    return this.#outputs.length === 0;
  }

  #output(output: Output): void {
    this.#outputs.push(output);
    this.#wake?.();
  }

  #closedError(close: { code: number; reason: string }): ConnectionClosed {
    return new ConnectionClosed(close.code, close.reason, this.#lastError());
  }

  async #next(timeoutMs: number, what: string): Promise<Output> {
    if (this.#outputs.length === 0 && this.#closed) return { close: this.#closed };
    const deadline = Date.now() + timeoutMs;
    while (this.#outputs.length === 0) {
      const left = deadline - Date.now();
      if (left <= 0) throw new CommunicatorTimeout(what, timeoutMs);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = null;
    }
    const output = this.#outputs.shift()!;
    if ("close" in output) this.#closed = output.close;
    return output;
  }
}

/** Rejects with `CommunicatorTimeout` if `promise` takes longer than `timeoutMs`. */
export function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new CommunicatorTimeout(what, timeoutMs)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
