/**
 * ws://host/chat/:room: a JSON chat room. Each `{ "text": "..." }` a client sends reaches every
 * member of the room as `{ "type": "chat.message", "user": "...", "text": "..." }`. A client that
 * connects with `?presence=1` also hears who joins and leaves:
 * `{ "type": "chat.presence", "user": "...", "event": "join" | "leave" }`. Those notices go to a
 * group of their own (`chat.<room>.presence`), which only such clients join: a burst of joins and
 * leaves never takes room in the message queue of a client that did not ask for them.
 */
import { JsonConsumer } from "hono-channels";

/** The messages this room sends through the channel layer (also used by HTTP views). */
export type ChatEvents = {
  "chat.message": { user: string; text: string };
  "chat.presence": { user: string; event: "join" | "leave" };
};

const ROOM = /^[\w-]{1,50}$/;
const MAX_TEXT = 2000;

export default class ChatRoom extends JsonConsumer<ChatEvents> {
  /**
   * Chat messages go to every member as they are, as JSON: no handler runs for them, and on Bun
   * one native publish reaches the whole room. They may overtake frames this member has not
   * handled yet, as a broadcast does in Socket.IO.
   */
  static override relays = ["chat.message"];

  get group(): string {
    return `chat.${this.scope.params.room}`;
  }

  /** Where joins and leaves are announced. */
  get presenceGroup(): string {
    return `${this.group}.presence`;
  }

  /** The logged-in user's name, else `?name=`, else "anon". */
  get userName(): string {
    return (this.scope.user?.name ?? this.scope.query.get("name") ?? "anon").slice(0, 50);
  }

  /** Whether this client asked to hear joins and leaves (the chat page does; scripts may not want them). */
  get wantsPresence(): boolean {
    return this.scope.query.get("presence") === "1";
  }

  override async connect() {
    if (!ROOM.test(this.scope.params.room ?? "")) return this.close();
    await this.groupAdd(this.group);
    if (this.wantsPresence) await this.groupAdd(this.presenceGroup);
    await this.accept();
    await this.groupSend(this.presenceGroup, { type: "chat.presence", user: this.userName, event: "join" });
  }

  override async disconnect() {
    // The room is already left: the others hear it, this connection does not.
    if (ROOM.test(this.scope.params.room ?? "")) {
      await this.groupSend(this.presenceGroup, {
        type: "chat.presence",
        user: this.userName,
        event: "leave",
      });
    }
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

  /** Runs on every client that asked for presence, for each join and leave. */
  chatPresence(event: { type: "chat.presence" } & ChatEvents["chat.presence"]) {
    return this.sendJson(event);
  }
}
