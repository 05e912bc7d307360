-- publish-eos: appends the end-of-stream entry of a topic and records it beside the stream, so every
-- subscriber (of any group, even one that never reads the entry itself) can learn where the stream ends.
-- KEYS[1] stream                   KEYS[2] end-of-stream hash (`<stream>:ps-eos`)
-- ARGV[1] MAXLEN for `MAXLEN ~` ('' = no trimming)
-- ARGV[2] value bytes              ARGV[3] message key ('' = none)
-- Returns the entry id.
local args = { KEYS[1] }
if ARGV[1] ~= '' then
  table.insert(args, 'MAXLEN')
  table.insert(args, '~')
  table.insert(args, ARGV[1])
end
table.insert(args, '*')
table.insert(args, 'v')
table.insert(args, ARGV[2])
table.insert(args, 'e')
table.insert(args, '1')
if ARGV[3] ~= '' then
  table.insert(args, 'k')
  table.insert(args, ARGV[3])
end
local id = redis.call('XADD', unpack(args))
redis.call('HSET', KEYS[2], 'id', id, 'v', ARGV[2], 'k', ARGV[3])
return id
