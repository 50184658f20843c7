package redisstore

import "github.com/redis/go-redis/v9"

// luaShared holds the helpers both scripts use. Stream ids are "ms-seq"; ms is about 1.8e12
// today, well inside the 2^53 a Lua number holds exactly.
const luaShared = `
local function split(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return tonumber(ms), tonumber(seq)
end

local function before(a, b)
  local am, as = split(a)
  local bm, bs = split(b)
  return am < bm or (am == bm and as < bs)
end

-- Drops the id mappings of entries that have left the stream. The index scores ids by the
-- milliseconds of their entry, so everything scored below the first entry's milliseconds is
-- gone; the few sharing its millisecond wait for the next call (Lookup checks exactly).
-- The LIMIT bounds the work of one call; every append runs this, so it keeps up.
local function cleanup(stream, ids, idx)
  local first = redis.call('XRANGE', stream, '-', '+', 'COUNT', 1)
  local bound = '+inf'
  if #first > 0 then
    local ms = split(first[1][1])
    bound = '(' .. string.format('%d', ms)
  end
  local old = redis.call('ZRANGEBYSCORE', idx, '-inf', bound, 'LIMIT', 0, 512)
  if #old > 0 then
    redis.call('HDEL', ids, unpack(old))
    redis.call('ZREM', idx, unpack(old))
  end
end
`

// appendScript appends one update atomically: it refuses an id that is still retained,
// adds the entry (trimming by count), trims by age, forgets the ids of trimmed entries and
// records the new id.
//
//	KEYS: stream, ids (hash id -> entry id), idx (sorted set id by entry milliseconds)
//	ARGV: update id, max count (0: none), max age in ms (0: none), then field/value pairs
//	returns {1, entry id} or {0, entry id of the retained update with that id}
var appendScript = redis.NewScript(luaShared + `
local stream, ids, idx = KEYS[1], KEYS[2], KEYS[3]
local id, maxlen, maxage = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])

local old = redis.call('HGET', ids, id)
if old then
  local first = redis.call('XRANGE', stream, '-', '+', 'COUNT', 1)
  if #first > 0 and not before(old, first[1][1]) then
    return {0, old}
  end
end

local args = {'XADD', stream}
if maxlen > 0 then
  args[#args + 1] = 'MAXLEN'
  args[#args + 1] = '~'
  args[#args + 1] = ARGV[2]
end
args[#args + 1] = '*'
for i = 4, #ARGV do
  args[#args + 1] = ARGV[i]
end
local eid = redis.call(unpack(args))
local ms = split(eid)

if maxage > 0 then
  -- Exact, not "~": the age bound is a promise to readers, and trimming a few entries per
  -- append is cheap.
  redis.call('XTRIM', stream, 'MINID', string.format('%d', ms - maxage))
end
cleanup(stream, ids, idx)
redis.call('HSET', ids, id, eid)
redis.call('ZADD', idx, string.format('%d', ms), id)
return {1, eid}
`)

// trimScript applies the age bound by the server's clock, for reads that come while
// nobody appends.
//
//	KEYS: stream, ids, idx
//	ARGV: max age in ms
var trimScript = redis.NewScript(luaShared + `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('XTRIM', KEYS[1], 'MINID', string.format('%d', now - tonumber(ARGV[1])))
cleanup(KEYS[1], KEYS[2], KEYS[3])
return 0
`)
