/**
 * Error classes with a stable `code`. Tests and callers branch on the class or the code, never on
 * the wording, which names the offending value and the rule it broke.
 */

/** Base class of every error this framework throws on purpose. */
export class ChannelsError extends Error {
  /** Stable, machine-readable reason. */
  readonly code: string;

  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = this.constructor.name;
    this.code = code;
  }
}

/** A file under `routes/` or `consumers/` that cannot become a route. Thrown at startup. */
export class RouteError extends ChannelsError {
  /** The offending file, relative to the project root. */
  readonly file: string;

  constructor(code: RouteErrorCode, file: string, message: string, options?: ErrorOptions) {
    super(code, `${file}: ${message}`, options);
    this.file = file;
  }
}

/** Why a route file was refused. */
export type RouteErrorCode =
  | "INVALID_SEGMENT"
  | "MULTIPLE_PARAMS"
  | "CATCH_ALL_NOT_LAST"
  | "DUPLICATE_PARAM"
  | "DUPLICATE_ROUTE"
  | "NO_HANDLER"
  | "NO_CONSUMER"
  | "INVALID_MIDDLEWARE"
  | "IMPORT_FAILED";

/** A setting from the environment or options with a value it cannot take. Thrown at startup. */
export class SettingsError extends ChannelsError {
  /** The variable (or option) that holds the bad value. */
  readonly variable: string;

  constructor(variable: string, message: string) {
    super("INVALID_SETTING", `${variable}: ${message}`);
    this.variable = variable;
  }
}

/** A consumer used its connection in a way the lifecycle does not allow (send before accept...). */
export class ConsumerStateError extends ChannelsError {
  constructor(message: string) {
    super("INVALID_STATE", message);
  }
}

/** A channel or group name that breaks the naming rules. */
export class InvalidNameError extends ChannelsError {
  constructor(kind: "channel" | "group", name: string, rule: string) {
    super(
      kind === "channel" ? "INVALID_CHANNEL_NAME" : "INVALID_GROUP_NAME",
      `Invalid ${kind} name ${JSON.stringify(name).slice(0, 120)}: ${rule}`,
    );
  }
}

/** A layer message that is not an object with a string `type`. */
export class InvalidMessageError extends ChannelsError {
  constructor(message: string) {
    super("INVALID_MESSAGE", message);
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

/** A layer used after `close()`. */
export class LayerClosedError extends ChannelsError {
  constructor() {
    super("LAYER_CLOSED", "The channel layer is closed.");
  }
}

/** The layer's backend (Redis) cannot be reached: the call failed at once instead of waiting. */
export class LayerUnavailableError extends ChannelsError {
  constructor(cause: unknown) {
    super(
      "LAYER_UNAVAILABLE",
      `The channel layer is unavailable: ${(cause as Error)?.message ?? String(cause)}`,
      {
        cause,
      },
    );
  }
}
