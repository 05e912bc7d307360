-- commit: ends the provisional lease of one object. Every key of the object gets the full TTL from
-- now (PEXPIRE), or no expiry when the object has no TTL (PERSIST). An object that already lost a
-- chunk is deleted whole instead, so a partial object never comes back to life.
-- KEYS[1] meta hash                KEYS[2] set of released readers
-- ARGV[1] chunk key prefix (`<base>:c:`)
-- Returns 1 when committed, 0 when the object is missing (or was partial and is now deleted).
local meta = redis.call('HMGET', KEYS[1], 'chunks', 'ttlMs')
if not meta[1] then return 0 end
local chunks = tonumber(meta[1])
for i = 0, chunks - 1 do
  if redis.call('EXISTS', ARGV[1] .. i) == 0 then
    for j = 0, chunks - 1 do redis.call('DEL', ARGV[1] .. j) end
    redis.call('DEL', KEYS[1], KEYS[2])
    return 0
  end
end
local function apply(key)
  if meta[2] then redis.call('PEXPIRE', key, meta[2]) else redis.call('PERSIST', key) end
end
apply(KEYS[1])
apply(KEYS[2])
for i = 0, chunks - 1 do apply(ARGV[1] .. i) end
return 1
