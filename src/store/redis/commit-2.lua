-- commit: ends the provisional lease of objects. Every key of an object gets the full TTL from now
-- (PEXPIRE), or no expiry when the object has no TTL (PERSIST). An object that already lost a chunk is
-- deleted whole instead, so a partial object never comes back to life.
-- Takes any number of objects; object i has
--   KEYS[2i-1] meta hash               KEYS[2i] set of released readers
--   ARGV[i]    chunk key prefix (`<base>:c:`)
-- Returns one integer per object: 1 when committed, 0 when missing (or partial and now deleted).
local function commit(meta_key, released_key, chunk_prefix)
  local meta = redis.call('HMGET', meta_key, 'chunks', 'ttlMs')
  if not meta[1] then return 0 end
  local chunks = tonumber(meta[1])
  for i = 0, chunks - 1 do
    if redis.call('EXISTS', chunk_prefix .. i) == 0 then
      for j = 0, chunks - 1 do redis.call('DEL', chunk_prefix .. j) end
      redis.call('DEL', meta_key, released_key)
      return 0
    end
  end
  local function apply(key)
    if meta[2] then redis.call('PEXPIRE', key, meta[2]) else redis.call('PERSIST', key) end
  end
  apply(meta_key)
  apply(released_key)
  for i = 0, chunks - 1 do apply(chunk_prefix .. i) end
  return 1
end

local results = {}
for i = 1, #KEYS / 2 do
  results[i] = commit(KEYS[2 * i - 1], KEYS[2 * i], ARGV[i])
end
return results
