/**
 * The Lua scripts of the Redis backplane. Each runs atomically on the server, so a `send` or a
 * `groupSend` is one round trip and one Redis operation whatever the group's size.
 *
 * Queued entries are `<expires-at-ms>:<channel>:<payload>` (see redis-entries.ts): a script reads
 * the expiry with a pattern match and builds an entry by concatenation, never decoding a message.
 */
import { createHash } from "node:crypto";
import type { Redis } from "ioredis";
import type { QueueConnections, RedisClient } from "./redis-queues.ts";

/**
 * A script sent once and then called by its SHA1. A call that finds it missing sends the source
 * after Redis said so, a round trip later, and a call made meanwhile may overtake it: so each
 * connection loads every script as it becomes ready (`loadAll`), which covers a new or restarted
 * Redis. A SCRIPT FLUSH while connected still opens that window, once per script.
 */
export class LuaScript {
  /** Every script made, in every backplane: what `loadAll` sends. */
  static readonly #all: LuaScript[] = [];
  readonly #source: string;
  readonly #sha: string;

  constructor(source: string) {
    this.#source = source;
    this.#sha = createHash("sha1").update(source).digest("hex");
    LuaScript.#all.push(this);
  }

  /**
   * Sends every script to a connection that just became ready, ahead of any call on it: a join
   * and the group send after it then reach Redis in that order, even on a Redis that restarted.
   */
  static loadAll(redis: Redis): void {
    for (const script of LuaScript.#all) redis.script("LOAD", script.#source).catch(() => {});
  }

  async run(redis: RedisClient, keys: string[], args: Array<string | number | Buffer>): Promise<unknown> {
    try {
      return await redis.evalsha(this.#sha, keys.length, ...keys, ...args);
    } catch (error) {
      // First call on this server (or after SCRIPT FLUSH / a restart): send the source once.
      if (!String(error).includes("NOSCRIPT")) throw error;
      return redis.eval(this.#source, keys.length, ...keys, ...args);
    }
  }
}

// Shared by both scripts: drop expired entries at the head of a list (they would otherwise count
// against its capacity), then push if there is room. Returns 1 if pushed, 0 if full.
const PUSH = `
local function push(key, entry, capacity, now, ttl)
  while true do
    local head = redis.call('LINDEX', key, 0)
    if not head then break end
    local expires = tonumber(string.match(head, '^(%d+):'))
    if expires and expires <= now then redis.call('LPOP', key) else break end
  end
  if redis.call('LLEN', key) >= capacity then return 0 end
  redis.call('RPUSH', key, entry)
  redis.call('PEXPIRE', key, ttl)
  return 1
end
`;

/** KEYS[1] list; ARGV entry, capacity, now, ttl. Returns 1 if queued, 0 if the list is full. */
export const sendScript = new LuaScript(`${PUSH}
return push(KEYS[1], ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]))
`);

/**
 * A batch of group messages (group-send-batch.ts), in the order they were sent. ARGV: 1 now,
 * 2 group expiry ms, 3 expires-at, 4 default capacity, 5 list ttl, 6 key prefix, 7 inbox capacity,
 * 8 how many capacity rules, then that many pairs of (Lua pattern, capacity), then the batch: for
 * each message its group and its wire payload, each followed by a newline (neither holds one).
 * One argument, not two per message: ioredis's per-argument work was a fifth of writing a batch.
 * The keys are built here from the prefix, as the backplane's `key()` builds them.
 *
 * For each message: drops the group's expired memberships, queues the message on every member
 * stored in Redis (plain channels on their own list, another process's `!` channels on that
 * process's inbox), then publishes it for the processes that hold local members. Messages in a row
 * to one group are published together, as one pub/sub message of their payloads each followed by
 * a newline: a room's burst is one message for every subscribed process to read, not one per
 * send, and since only neighbours are joined every process still sees the batch's order. Returns
 * (message number, note) pairs: how many members were full, for a message that skipped any, or
 * the error Redis gave, for a message it refused.
 */
export const groupSendScript = new LuaScript(`${PUSH}
local now = tonumber(ARGV[1])
local since = now - tonumber(ARGV[2])
local defaultCapacity = tonumber(ARGV[4])
local ttl = tonumber(ARGV[5])
local prefix = ARGV[6]
local inboxCapacity = tonumber(ARGV[7])
local rules = {}
local first = 9 + 2 * tonumber(ARGV[8])
for i = 9, first - 1, 2 do rules[#rules + 1] = { ARGV[i], tonumber(ARGV[i + 1]) } end
-- A batch often holds many messages to one group: read its stored members once.
local membersOf = {}

-- One message of the batch; returns how many stored members were full.
local function groupSend(group, payload)
  local members = membersOf[group]
  if not members then
    local setKey = prefix .. ':group:' .. group
    redis.call('ZREMRANGEBYSCORE', setKey, '-inf', since)
    members = redis.call('ZRANGE', setKey, 0, -1)
    membersOf[group] = members
  end
  local full = 0
  for _, channel in ipairs(members) do
    local capacity = defaultCapacity
    for _, rule in ipairs(rules) do
      if string.match(channel, rule[1]) then capacity = rule[2]; break end
    end
    local key
    local owner = string.match(channel, '([^.]+)!')
    if owner then
      -- Another process's channel: its inbox has its own bound; that process applies the channel's.
      capacity = inboxCapacity
      key = prefix .. ':inbox:' .. owner
    else
      key = prefix .. ':ch:' .. channel
    end
    local entry = ARGV[3] .. ':' .. channel .. ':' .. payload
    if push(key, entry, capacity, now, ttl) == 0 then full = full + 1 end
  end
  return full
end

-- The run of messages to one group not published yet: its group and its payloads.
local runGroup, run = nil, {}
local function publishRun()
  if runGroup then redis.call('PUBLISH', prefix .. ':gpub:' .. runGroup, table.concat(run)) end
  runGroup, run = nil, {}
end

local batch = ARGV[first]
local notes = {}
local k, at = 0, 1
while at <= #batch do
  local groupEnd = string.find(batch, '\\n', at, true)
  local payloadEnd = string.find(batch, '\\n', groupEnd + 1, true)
  local group = string.sub(batch, at, groupEnd - 1)
  k = k + 1
  if group ~= runGroup then publishRun() end
  -- One message Redis refuses (a key of another type under our prefix) fails alone.
  local ok, result = pcall(groupSend, group, string.sub(batch, groupEnd + 1, payloadEnd - 1))
  if ok then
    runGroup = group
    -- The payload with its newline, as the batch holds it.
    run[#run + 1] = string.sub(batch, groupEnd + 1, payloadEnd)
  end
  at = payloadEnd + 1
  if not ok then
    notes[#notes + 1] = k
    notes[#notes + 1] = type(result) == 'table' and result.err or tostring(result)
  elseif result > 0 then
    notes[#notes + 1] = k
    notes[#notes + 1] = result
  end
end
publishRun()
return notes
`);

/**
 * KEYS[1] group set; ARGV channel, now, group expiry ms. Stores a membership and renews the set's
 * expiry. A script, not MULTI, because ioredis writes a MULTI at once, ahead of commands it still
 * holds in its auto-pipeline: a join would overtake group messages sent before it.
 */
export const groupAddScript = new LuaScript(`
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 0
`);

/**
 * KEYS[1] a lease; ARGV holder, ttl ms. Takes the lease if it is free, renews it if the holder
 * has it. Returns 1 if the holder has it now, 0 if another does.
 */
const acquireLeaseScript = new LuaScript(`
local current = redis.call('GET', KEYS[1])
if current and current ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`);

/** KEYS[1] a lease; ARGV holder. Deletes the lease if the holder has it. */
const releaseLeaseScript = new LuaScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 0
`);

/** Takes or renews the lease at `key` for `holder`; false if another holder has it. Every Redis backplane's. */
export async function acquireLease(
  redis: Pick<QueueConnections, "call" | "command">,
  key: string,
  holder: string,
  ttlMs: number,
): Promise<boolean> {
  const held = await redis.call(() =>
    acquireLeaseScript.run(redis.command, [key], [holder, Math.ceil(ttlMs)]),
  );
  return held === 1;
}

/** Gives the lease at `key` back if `holder` has it. */
export async function releaseLease(
  redis: Pick<QueueConnections, "call" | "command">,
  key: string,
  holder: string,
): Promise<void> {
  await redis.call(() => releaseLeaseScript.run(redis.command, [key], [holder]));
}

/** A `channelCapacity` glob (`worker.*`) as an anchored Lua pattern. */
export function globToLuaPattern(glob: string): string {
  return `^${glob
    .split("*")
    .map((part) => part.replace(/[%^$().[\]+\-?]/g, "%$&"))
    .join(".*")}$`;
}
