/** ws://host/echo: sends every text or binary frame straight back. */
import { Consumer, type Frame } from "hono-channels";

export default class Echo extends Consumer {
  override receive(frame: Frame) {
    return this.send(frame);
  }
}
