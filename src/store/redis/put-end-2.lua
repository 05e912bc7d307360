-- put-end: writes the meta hash of an object whose chunks were just SET, and drops whatever an
-- older object under the same key left behind (extra chunks, released readers).
-- KEYS[1] meta hash                KEYS[2] set of released readers
-- ARGV[1] chunk key prefix (`<base>:c:`, all keys share one hash tag)
-- ARGV[2] size in bytes            ARGV[3] number of chunks        ARGV[4] chunk size in bytes
-- ARGV[5] readers as JSON ('' = none: a list of group names or a count)
-- ARGV[6] ttlMs ('' = none)        ARGV[7] first expiry in ms, the lease or the TTL ('' = none)
-- Returns 1.
local old = tonumber(redis.call('HGET', KEYS[1], 'chunks') or '0')
local chunks = tonumber(ARGV[3])
for i = chunks, old - 1 do redis.call('DEL', ARGV[1] .. i) end
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('HSET', KEYS[1], 'size', ARGV[2], 'chunks', ARGV[3], 'chunkBytes', ARGV[4])
if ARGV[5] ~= '' then redis.call('HSET', KEYS[1], 'readers', ARGV[5]) end
if ARGV[6] ~= '' then redis.call('HSET', KEYS[1], 'ttlMs', ARGV[6]) end
if ARGV[7] ~= '' then redis.call('PEXPIRE', KEYS[1], ARGV[7]) end
return 1
