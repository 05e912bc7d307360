-- delete: removes every key of objects. Without a meta hash (a put that died half way), chunks are
-- removed from 0 upward until one is missing.
-- Takes any number of objects; object i has
--   KEYS[2i-1] meta hash               KEYS[2i] set of released readers
--   ARGV[i]    chunk key prefix (`<base>:c:`)
-- Returns one integer per object: 1 when it existed (its meta hash did), else 0.
local function delete(meta_key, released_key, chunk_prefix)
  local chunks = redis.call('HGET', meta_key, 'chunks')
  if chunks then
    for i = 0, tonumber(chunks) - 1 do redis.call('DEL', chunk_prefix .. i) end
  else
    local i = 0
    while redis.call('DEL', chunk_prefix .. i) == 1 do i = i + 1 end
  end
  redis.call('DEL', released_key)
  return redis.call('DEL', meta_key)
end

local results = {}
for i = 1, #KEYS / 2 do
  results[i] = delete(KEYS[2 * i - 1], KEYS[2 * i], ARGV[i])
end
return results
