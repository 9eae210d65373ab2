/**
 * Runs before every consumer: a signed token (Bearer header, `?token=`, or the `session` cookie)
 * fills `this.scope.user`; a tampered or expired one is refused with 401 before any consumer code.
 * No token means anonymous (`user` null): each consumer decides whether that is enough.
 */
import { getSettings, tokenAuth } from "hono-channels";

export default tokenAuth({ secret: getSettings().secretKey });
