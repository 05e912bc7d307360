-- release: records that one reader group is done with an object and deletes the object once every
-- reader its lifetime names has released it (or as many distinct groups as its count says).
-- KEYS[1] meta hash                KEYS[2] set of released readers
-- ARGV[1] chunk key prefix (`<base>:c:`)   ARGV[2] reader (consumer group name)
-- ARGV[3] ms to keep the set of released readers after the object is deleted ('' or 0: delete it too),
--         so that a later delivery of the same event can be told from a lost payload
-- Returns 1 when this call deleted the object, else 0 (missing, reader not counted, others pending).
local meta = redis.call('HMGET', KEYS[1], 'readers', 'chunks')
if not meta[1] then return 0 end
local readers = cjson.decode(meta[1])
local counted = type(readers) == 'number'
if not counted then
  for _, name in ipairs(readers) do
    if name == ARGV[2] then counted = true end
  end
end
if not counted then return 0 end
redis.call('SADD', KEYS[2], ARGV[2])
local done = true
if type(readers) == 'number' then
  done = redis.call('SCARD', KEYS[2]) >= readers
else
  for _, name in ipairs(readers) do
    if redis.call('SISMEMBER', KEYS[2], name) == 0 then done = false end
  end
end
if not done then
  local ttl = redis.call('PTTL', KEYS[1])
  if ttl > 0 then redis.call('PEXPIRE', KEYS[2], ttl) end
  return 0
end
for i = 0, tonumber(meta[2]) - 1 do redis.call('DEL', ARGV[1] .. i) end
redis.call('DEL', KEYS[1])
local remember = tonumber(ARGV[3] or '') or 0
if remember > 0 then redis.call('PEXPIRE', KEYS[2], remember) else redis.call('DEL', KEYS[2]) end
return 1
