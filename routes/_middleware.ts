/** Runs before every view: the same token auth as consumers, so `c.var.user` is set in views too. */
import { getSettings, tokenAuth } from "hono-channels";

export default tokenAuth({ secret: getSettings().secretKey });
