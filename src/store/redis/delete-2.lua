-- delete: removes every key of one object. Without a meta hash (a put that died half way), chunks
-- are removed from 0 upward until one is missing.
-- KEYS[1] meta hash                KEYS[2] set of released readers
-- ARGV[1] chunk key prefix (`<base>:c:`)
-- Returns 1 when the object existed (its meta hash did), else 0.
local chunks = redis.call('HGET', KEYS[1], 'chunks')
if chunks then
  for i = 0, tonumber(chunks) - 1 do redis.call('DEL', ARGV[1] .. i) end
else
  local i = 0
  while redis.call('DEL', ARGV[1] .. i) == 1 do i = i + 1 end
end
redis.call('DEL', KEYS[2])
return redis.call('DEL', KEYS[1])
