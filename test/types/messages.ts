/**
 * Type-level tests of typed messages: only `tsc --noEmit -p .` runs them. Every
 * `@ts-expect-error` must meet an error, or tsc fails, so a passing type check proves the
 * misspelled type, the missing field and the wrong field type are all caught. Nothing here runs.
 */
import type { Context } from "hono";
import {
  type ChannelsEnv,
  type Consumer,
  type ConsumerClass,
  getChannelLayer,
  JsonConsumer,
} from "../../src/index.ts";

type ChatEvents = { "chat.message": { user: string; text: string } };

/** A consumer whose `groupSend` only takes ChatEvents messages. */
export class TypedRoom extends JsonConsumer<ChatEvents> {
  async checkGroupSend(group: string, user: string) {
    await this.groupSend(group, { type: "chat.message", user, text: "hi" });
    // @ts-expect-error a misspelled type
    await this.groupSend(group, { type: "chat.mesage", user, text: "hi" });
    // @ts-expect-error a missing field
    await this.groupSend(group, { type: "chat.message", user });
    // @ts-expect-error a field of the wrong type
    await this.groupSend(group, { type: "chat.message", user, text: 1 });
  }
}

/** A consumer with a message map is still a Consumer: helpers and communicators take it as one. */
export const typedRoomIsAConsumerClass: ConsumerClass = TypedRoom;
export function typedRoomIsAConsumer(room: TypedRoom): Consumer {
  return room;
}

/** `getChannelLayer<M>()` types `groupSend` and `send` by M. */
export async function checkGetChannelLayer(group: string, channel: string) {
  const layer = getChannelLayer<ChatEvents>();
  await layer.groupSend(group, { type: "chat.message", user: "server", text: "hi" });
  // @ts-expect-error a misspelled type
  await layer.groupSend(group, { type: "chat.mesage", user: "server", text: "hi" });
  // @ts-expect-error a missing field
  await layer.groupSend(group, { type: "chat.message", user: "server" });
  // @ts-expect-error a field of the wrong type
  await layer.groupSend(group, { type: "chat.message", user: "server", text: 1 });

  await layer.send(channel, { type: "chat.message", user: "server", text: "hi" });
  // @ts-expect-error a misspelled type
  await layer.send(channel, { type: "chat.mesage", user: "server", text: "hi" });
  // @ts-expect-error a missing field
  await layer.send(channel, { type: "chat.message", user: "server" });
  // @ts-expect-error a field of the wrong type
  await layer.send(channel, { type: "chat.message", user: "server", text: 1 });
}

/** A view typed `Context<ChannelsEnv<M>>` gets `c.var.layer` typed by M. */
export async function checkRouteContext(c: Context<ChannelsEnv<ChatEvents>>) {
  await c.var.layer.groupSend("chat.lobby", { type: "chat.message", user: "server", text: "hi" });
  // @ts-expect-error a misspelled type
  await c.var.layer.groupSend("chat.lobby", { type: "chat.mesage", user: "server", text: "hi" });
  // @ts-expect-error a missing field
  await c.var.layer.groupSend("chat.lobby", { type: "chat.message", user: "server" });
  // @ts-expect-error a field of the wrong type
  await c.var.layer.groupSend("chat.lobby", { type: "chat.message", user: "server", text: 1 });
  return c.json({ ok: true });
}

/** Without a map, any message with a string `type` is accepted. */
export async function checkUntypedLayer(group: string) {
  await getChannelLayer().groupSend(group, { type: "anything.goes", extra: 1 });
}
