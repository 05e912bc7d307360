-- release: records that one reader group is done with objects, and deletes each object once every
-- reader its lifetime names has released it (or as many distinct groups as its count says).
-- Takes any number of objects; object i has
--   KEYS[2i-1] meta hash               KEYS[2i] set of released readers
--   ARGV[3i-2] chunk key prefix (`<base>:c:`)   ARGV[3i-1] reader (consumer group name)
--   ARGV[3i]   ms to keep the set of released readers after the object is deleted ('' or 0: delete it
--              too), so that a later delivery of the same event can be told from a lost payload
-- Returns one integer per object: 1 when this call deleted it, else 0 (missing, reader not counted,
-- others pending).
local function release(meta_key, released_key, chunk_prefix, reader, remember_ms)
  local meta = redis.call('HMGET', meta_key, 'readers', 'chunks')
  if not meta[1] then return 0 end
  local readers = cjson.decode(meta[1])
  local counted = type(readers) == 'number'
  if not counted then
    for _, name in ipairs(readers) do
      if name == reader then counted = true end
    end
  end
  if not counted then return 0 end
  redis.call('SADD', released_key, reader)
  local done = true
  if type(readers) == 'number' then
    done = redis.call('SCARD', released_key) >= readers
  else
    for _, name in ipairs(readers) do
      if redis.call('SISMEMBER', released_key, name) == 0 then done = false end
    end
  end
  if not done then
    local ttl = redis.call('PTTL', meta_key)
    if ttl > 0 then redis.call('PEXPIRE', released_key, ttl) end
    return 0
  end
  for i = 0, tonumber(meta[2]) - 1 do redis.call('DEL', chunk_prefix .. i) end
  redis.call('DEL', meta_key)
  local remember = tonumber(remember_ms or '') or 0
  if remember > 0 then redis.call('PEXPIRE', released_key, remember) else redis.call('DEL', released_key) end
  return 1
end

local results = {}
for i = 1, #KEYS / 2 do
  results[i] = release(KEYS[2 * i - 1], KEYS[2 * i], ARGV[3 * i - 2], ARGV[3 * i - 1], ARGV[3 * i])
end
return results
