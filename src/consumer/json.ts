/**
 * `JsonConsumer`: a consumer that speaks JSON text frames. Frames are decoded before
 * `receiveJson(data)`; `sendJson(data)` encodes. Override `decodeJson` / `encodeJson` to change
 * the format (a schema check, a reviver, MessagePack over text...). A frame nesting deeper than
 * `maxJsonDepth` is refused before `decodeJson` sees it, so no decoder override can let it through.
 */
import type { MessageMap } from "../layers/layer.ts";
import { jsonDepthExceeds } from "../security/json-depth.ts";
import { getSettings } from "../settings.ts";
import { Consumer } from "./consumer.ts";
import { registerFrameworkClass } from "./dispatch.ts";
import { CloseCode, type CloseOptions, type Frame } from "./frames.ts";
import { sharedJson } from "./shared-json.ts";

/** The error frame a JSON client gets before the socket closes over bad input. */
export interface JsonErrorFrame {
  type: "error";
  code: "INVALID_JSON" | "BINARY_NOT_SUPPORTED";
  message: string;
}

/** A consumer whose client sends and receives JSON. */
export class JsonConsumer<Events extends MessageMap = MessageMap> extends Consumer<Events> {
  /**
   * Deepest nesting of arrays and objects a frame may have; deeper frames are answered as invalid
   * JSON. `MAX_JSON_DEPTH` (64) unless a subclass sets its own (`override maxJsonDepth = 200`).
   */
  maxJsonDepth: number = getSettings().maxJsonDepth;

  /**
   * Decodes a text frame; a binary frame gets an error frame and a close 1003, invalid JSON or a
   * frame nesting deeper than `maxJsonDepth` an error frame and a close 1007.
   */
  override async receive(frame: Frame): Promise<void> {
    if (frame.text === undefined) {
      await this.#refuse(
        CloseCode.unsupportedData,
        "BINARY_NOT_SUPPORTED",
        "This endpoint accepts JSON text frames only.",
      );
      return;
    }
    // Before decoding: a value too deep to encode must never reach receiveJson, whose replies
    // and group sends would fail in JSON.stringify (here, or in every member of a group).
    if (jsonDepthExceeds(frame.text, this.maxJsonDepth)) {
      await this.#refuse(
        CloseCode.invalidPayload,
        "INVALID_JSON",
        `Frame nests deeper than ${this.maxJsonDepth} levels (MAX_JSON_DEPTH).`,
      );
      return;
    }
    let data: unknown;
    try {
      data = await this.decodeJson(frame.text);
    } catch (error) {
      await this.#refuse(
        CloseCode.invalidPayload,
        "INVALID_JSON",
        `Frame is not valid JSON: ${(error as Error).message}`,
      );
      return;
    }
    await this.receiveJson(data);
  }

  /** Called with each decoded frame, one at a time, in order. */
  receiveJson(_data: unknown): void | Promise<void> {}

  /** Encodes `data` and sends it as a text frame; `close` closes the connection afterwards. */
  sendJson(data: unknown, options: { close?: boolean | CloseOptions } = {}): Promise<void> {
    let text: string | Promise<string>;
    try {
      // A member relaying a group message unchanged reuses the text the first member encoded.
      text = (this.encodeJson === defaultEncodeJson && sharedJson(data)) || this.encodeJson(data);
    } catch (error) {
      return Promise.reject(error);
    }
    // The common case, once per member of every group message: no promise of its own.
    if (typeof text === "string" && !options.close) return this.send({ text });
    return this.#sendThenClose(text, options.close);
  }

  async #sendThenClose(text: string | Promise<string>, close?: boolean | CloseOptions): Promise<void> {
    await this.send({ text: await text });
    if (close) await this.close(close === true ? {} : close);
  }

  /** Text frame -> value. JSON.parse unless overridden. */
  decodeJson(text: string): unknown | Promise<unknown> {
    return JSON.parse(text);
  }

  /** Value -> text frame. JSON.stringify unless overridden. */
  encodeJson(data: unknown): string | Promise<string> {
    return JSON.stringify(data);
  }

  async #refuse(code: number, errorCode: JsonErrorFrame["code"], message: string): Promise<void> {
    const frame: JsonErrorFrame = { type: "error", code: errorCode, message };
    await this.send({ text: JSON.stringify(frame) });
    await this.close({ code, reason: errorCode });
  }
}
registerFrameworkClass(JsonConsumer);

/** A subclass that overrides `encodeJson` has its own format: shared texts are JSON.stringify's. */
/** The encoder a class that does not override `encodeJson` has (relays are written with it only). */
export const defaultEncodeJson = JsonConsumer.prototype.encodeJson;
