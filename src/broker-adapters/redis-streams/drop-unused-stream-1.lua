-- drop-unused-stream: deletes a stream that never held an entry and has no consumer group left, such as
-- one that XGROUP CREATE ... MKSTREAM made for a private group of a read-only subscriber. Atomic, so an
-- entry added concurrently is never lost.
-- KEYS[1] stream
-- Returns 1 when the stream was deleted, else 0.
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local info = redis.call('XINFO', 'STREAM', KEYS[1])
local fields = {}
for i = 1, #info, 2 do
  fields[info[i]] = info[i + 1]
end
if fields['length'] ~= 0 or fields['groups'] ~= 0 or fields['last-generated-id'] ~= '0-0' then return 0 end
redis.call('DEL', KEYS[1])
return 1
