/**
 * Every error class the framework throws on purpose, each with a stable `code`. Tests and callers
 * branch on the class or the code, never on the wording, which names the offending value and the
 * rule it broke. One meaning per code.
 */

/** Why a route file was refused. */
export type RouteErrorCode =
  | "INVALID_SEGMENT"
  | "MULTIPLE_PARAMS"
  | "CATCH_ALL_NOT_LAST"
  | "DUPLICATE_PARAM"
  | "DUPLICATE_ROUTE"
  | "NO_HANDLER"
  | "NO_CONSUMER"
  | "BAD_RELAYS"
  | "INVALID_MIDDLEWARE"
  | "INVALID_SCHEDULE"
  | "NO_WORKER"
  | "IMPORT_FAILED";

/** Why a layer message could not be dispatched to a consumer handler. */
export type DispatchErrorCode = "INVALID_TYPE" | "NO_HANDLER";

/** What a test did with a communicator that the connection's state does not allow. */
export type CommunicatorErrorCode = "NOT_CONNECTED" | "NOT_TEXT" | "UNEXPECTED_FRAME";

/** Every code a `ChannelsError` can carry. */
export type ErrorCode =
  | RouteErrorCode
  | DispatchErrorCode
  | CommunicatorErrorCode
  | "INVALID_SETTING"
  | "INVALID_STATE"
  | "INVALID_CHANNEL_NAME"
  | "INVALID_GROUP_NAME"
  | "INVALID_MESSAGE"
  | "CHANNEL_FULL"
  | "CHANNEL_LISTENED"
  | "NOT_LOCAL"
  | "LAYER_NOT_READY"
  | "LAYER_CLOSED"
  | "LAYER_UNAVAILABLE"
  | "OUTCOME_UNKNOWN"
  | "TIMEOUT"
  | "CONNECTION_CLOSED"
  | "INVALID_JSON";

/** Base class of every error this framework throws on purpose. */
export class ChannelsError extends Error {
  /** Stable, machine-readable reason. */
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = this.constructor.name;
    this.code = code;
  }
}

// --- startup ---------------------------------------------------------------------------------------

/** A file under `routes/` or `consumers/` that cannot become a route. Thrown at startup. */
export class RouteError extends ChannelsError {
  /** The offending file, relative to the project root. */
  readonly file: string;

  constructor(code: RouteErrorCode, file: string, message: string, options?: ErrorOptions) {
    super(code, `${file}: ${message}`, options);
    this.file = file;
  }
}

/** A setting from the environment or options with a value it cannot take. Thrown at startup. */
export class SettingsError extends ChannelsError {
  /** The variable (or option) that holds the bad value. */
  readonly variable: string;

  constructor(variable: string, message: string) {
    super("INVALID_SETTING", `${variable}: ${message}`);
    this.variable = variable;
  }
}

// --- consumers -------------------------------------------------------------------------------------

/** A consumer used its connection in a way the lifecycle does not allow (send before accept...). */
export class ConsumerStateError extends ChannelsError {
  constructor(message: string) {
    super("INVALID_STATE", message);
  }
}

/** A message type refused by the dispatch rules; logged for the consumer, never fatal. */
export class DispatchError extends ChannelsError {
  constructor(code: DispatchErrorCode, message: string) {
    super(code, message);
  }
}

// --- channel layers --------------------------------------------------------------------------------

/** A channel or group name that breaks the naming rules. */
export class InvalidNameError extends ChannelsError {
  constructor(kind: "channel" | "group", name: string, rule: string) {
    super(
      kind === "channel" ? "INVALID_CHANNEL_NAME" : "INVALID_GROUP_NAME",
      `Invalid ${kind} name ${JSON.stringify(name).slice(0, 120)}: ${rule}`,
    );
  }
}

/** A layer message that is not an object with a string `type`, or holds what cannot be carried. */
export class InvalidMessageError extends ChannelsError {
  constructor(message: string, options?: ErrorOptions) {
    super("INVALID_MESSAGE", message, options);
  }
}

/** `send()` to a channel already holding its capacity of undelivered messages (Channels' `ChannelFull`). */
export class ChannelFull extends ChannelsError {
  /** The channel that is full. */
  readonly channel: string;

  constructor(channel: string, capacity: number) {
    super(
      "CHANNEL_FULL",
      `Channel ${channel} is full: it holds its capacity of ${capacity} undelivered messages.`,
    );
    this.channel = channel;
  }
}

/** `receive()` or `listen()` on a channel that already has a listener (a connected consumer). */
export class ChannelListenedError extends ChannelsError {
  constructor(channel: string, why: string) {
    super("CHANNEL_LISTENED", `Channel ${channel} ${why}`);
  }
}

/** `receive()` or `listen()` on a channel that belongs to another process. */
export class NotLocalError extends ChannelsError {
  constructor(channel: string) {
    super(
      "NOT_LOCAL",
      `Channel ${channel} belongs to another process; only the process whose newChannel() made it receives there.`,
    );
  }
}

/** `getChannelLayer()` before the configured (non-memory) layer was installed. */
export class LayerNotReadyError extends ChannelsError {
  constructor(layer: string) {
    super(
      "LAYER_NOT_READY",
      `CHANNEL_LAYER=${layer}, but no layer is installed yet: ` +
        "call setChannelLayer(await createChannelLayer()) before getChannelLayer().",
    );
  }
}

/** A layer used after `close()`. */
export class LayerClosedError extends ChannelsError {
  constructor() {
    super("LAYER_CLOSED", "The channel layer is closed.");
  }
}

/** The layer's backend (Redis) cannot be reached: the call was not carried out (nothing was sent). */
export class LayerUnavailableError extends ChannelsError {
  constructor(cause: unknown) {
    super(
      "LAYER_UNAVAILABLE",
      `The channel layer is unavailable: ${(cause as Error)?.message ?? String(cause)}`,
      { cause },
    );
  }
}

/**
 * The layer's backend took the call but did not confirm it in time (Redis frozen or overloaded):
 * it may or may not have been carried out. Unlike `LayerUnavailableError`, retrying may deliver twice.
 */
export class LayerOutcomeUnknownError extends ChannelsError {
  constructor(cause: unknown) {
    super(
      "OUTCOME_UNKNOWN",
      `The channel layer sent the call but got no answer, so it may or may not have been carried out: ${
        (cause as Error)?.message ?? String(cause)
      }`,
      { cause },
    );
  }
}

// --- testing ---------------------------------------------------------------------------------------

/** A communicator call that waited longer than its timeout. */
export class CommunicatorTimeout extends ChannelsError {
  constructor(what: string, timeoutMs: number) {
    super("TIMEOUT", `No ${what} within ${timeoutMs} ms.`);
  }
}

/** A communicator used out of order: `sendTo()` before `connect()`, JSON from a binary frame... */
export class CommunicatorError extends ChannelsError {
  constructor(code: CommunicatorErrorCode, message: string) {
    super(code, message);
  }
}

/** The consumer closed the connection while the test waited for a frame. */
export class ConnectionClosed extends ChannelsError {
  readonly closeCode: number;
  readonly reason: string;

  constructor(code: number, reason: string, lastError: unknown) {
    const cause = lastError instanceof Error ? ` Last logged error: ${lastError.message}` : "";
    super(
      "CONNECTION_CLOSED",
      `The consumer closed the connection with ${code}${reason ? ` (${reason})` : ""}.${cause}`,
      { cause: lastError },
    );
    this.closeCode = code;
    this.reason = reason;
  }
}

// --- untrusted input -------------------------------------------------------------------------------

/** Why untrusted JSON was refused: it does not parse, or it nests deeper than `MAX_JSON_DEPTH`. */
export type InvalidJsonReason = "syntax" | "depth";

/** Untrusted JSON (a request body) that does not parse or nests too deep; `createApp` answers 400. */
export class InvalidJsonError extends ChannelsError {
  /** `syntax`: not JSON; `depth`: nests deeper than the limit. */
  readonly reason: InvalidJsonReason;

  constructor(reason: InvalidJsonReason, message: string, options?: ErrorOptions) {
    super("INVALID_JSON", message, options);
    this.reason = reason;
  }
}
