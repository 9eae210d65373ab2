/**
 * ws://host/chat/:room: a JSON chat room. Each `{ "text": "..." }` a client sends reaches every
 * member of the room as `{ "type": "chat.message", "user": "...", "text": "..." }`.
 */
import { JsonConsumer } from "hono-channels";

/** The messages this room sends through the channel layer (also used by HTTP views). */
export type ChatEvents = { "chat.message": { user: string; text: string } };

const ROOM = /^[\w-]{1,50}$/;
const MAX_TEXT = 2000;

export default class ChatRoom extends JsonConsumer<ChatEvents> {
  get group(): string {
    return `chat.${this.scope.params.room}`;
  }

  /** The logged-in user's name, else `?name=`, else "anon". */
  get userName(): string {
    return (this.scope.user?.name ?? this.scope.query.get("name") ?? "anon").slice(0, 50);
  }

  override async connect() {
    if (!ROOM.test(this.scope.params.room ?? "")) return this.close();
    await this.groupAdd(this.group);
    await this.accept();
  }

  override async receiveJson(data: unknown) {
    const text = (data as { text?: unknown } | null)?.text;
    if (typeof text !== "string" || text.trim() === "" || text.length > MAX_TEXT) {
      await this.sendJson({
        type: "error",
        code: "INVALID_MESSAGE",
        message: `Send { "text": "..." } of 1-${MAX_TEXT} characters.`,
      });
      return;
    }
    await this.groupSend(this.group, { type: "chat.message", user: this.userName, text });
  }

  /** Runs on every member for each `chat.message` sent to the room. */
  async chatMessage(event: { type: "chat.message" } & ChatEvents["chat.message"]) {
    await this.sendJson(event);
  }
}
