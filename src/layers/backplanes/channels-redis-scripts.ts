/**
 * The Lua scripts of the channels_redis wire backplane. They do what channels_redis 4.x does in
 * several commands (prune expired messages by score, check the count against the capacity, add,
 * refresh the TTL), in one atomic step, so Python and TypeScript writers see the same queues.
 * Scores are send times in float seconds; expiry is pruned at whole seconds, as Python prunes it.
 */
import { LuaScript } from "./redis-scripts.ts";

/**
 * KEYS[1] a channel's sorted set. ARGV: 1 stored message, 2 score, 3 capacity, 4 expiry (s),
 * 5 prune below this score. Returns 1 if queued, 0 if the channel is full.
 */
export const sendScript = new LuaScript(`
redis.call('ZREMRANGEBYSCORE', KEYS[1], 0, ARGV[5])
if redis.call('ZCOUNT', KEYS[1], '-inf', '+inf') >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[4])
return 1
`);

/**
 * KEYS: the destination sorted sets of one group message (one per process, one per plain
 * channel). ARGV: the stored message for each key, then each key's capacity, then score, expiry
 * (s) and the prune bound. A full key is skipped, never an error (as in channels_redis).
 * Returns how many keys were full.
 */
export const groupSendScript = new LuaScript(`
local n = #KEYS
local score, expiry, prune = ARGV[2 * n + 1], ARGV[2 * n + 2], ARGV[2 * n + 3]
local full = 0
for i = 1, n do
  redis.call('ZREMRANGEBYSCORE', KEYS[i], 0, prune)
  if redis.call('ZCOUNT', KEYS[i], '-inf', '+inf') < tonumber(ARGV[n + i]) then
    redis.call('ZADD', KEYS[i], score, ARGV[i])
    redis.call('EXPIRE', KEYS[i], expiry)
  else
    full = full + 1
  end
end
return full
`);

/** KEYS[1] a group's sorted set; ARGV[1] drop members joined at or before this score. Returns the members. */
export const groupMembersScript = new LuaScript(`
redis.call('ZREMRANGEBYSCORE', KEYS[1], 0, ARGV[1])
return redis.call('ZRANGE', KEYS[1], 0, -1)
`);
