/**
 * ws://host/me: only for logged-in users. Anonymous clients are refused with HTTP 401 before the
 * upgrade (`close({ code: 4401 })` before `accept()`); others get their user back.
 */
import { JsonConsumer } from "hono-channels";

export default class Me extends JsonConsumer {
  override async connect() {
    if (!this.scope.user) return this.close({ code: 4401 });
    await this.accept();
    await this.sendJson({ type: "me", user: this.scope.user });
  }
}
