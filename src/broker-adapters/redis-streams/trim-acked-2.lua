-- trim-acked: trims the entries of a stream that every consumer group of it is done with. A group still
-- needs its oldest pending entry and everything after the last entry delivered to it (that entry itself
-- stays too); the end-of-stream entry recorded beside the stream always stays, so groups made later
-- still meet the end. A stream without groups is left alone. Atomic, so a group created or an entry read
-- meanwhile is never cut short.
-- KEYS[1] stream, KEYS[2] its end-of-stream hash (field id)
-- Returns the number of entries trimmed.
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local groups = redis.call('XINFO', 'GROUPS', KEYS[1])
if #groups == 0 then return 0 end

-- Entry ids compared exactly as decimal strings (no leading zeros in ids Redis replies with).
local function less(a, b)
  if #a ~= #b then return #a < #b end
  return a < b
end
local function before(x, y)
  local xm, xs = string.match(x, '^(%d+)-(%d+)$')
  local ym, ys = string.match(y, '^(%d+)-(%d+)$')
  if xm ~= ym then return less(xm, ym) end
  return less(xs, ys)
end

-- keep: the oldest id some group still needs; every entry below it goes.
local keep = nil
local function need(id)
  if keep == nil or before(id, keep) then keep = id end
end
for _, group in ipairs(groups) do
  local fields = {}
  for i = 1, #group, 2 do fields[group[i]] = group[i + 1] end
  if tonumber(fields['pending']) > 0 then
    need(redis.call('XPENDING', KEYS[1], fields['name'])[2])
  else
    need(fields['last-delivered-id'])
  end
end
local eos = redis.call('HGET', KEYS[2], 'id')
if eos then need(eos) end
-- LIMIT 0: every finished node goes in this call (the default stops after 100 nodes' worth of entries,
-- which a stream gaining more than that per trim interval would never catch up with).
return redis.call('XTRIM', KEYS[1], 'MINID', '~', keep, 'LIMIT', 0)
