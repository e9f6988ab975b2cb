--[[
  Replaces a signed-in person's ask on a resource only if it is still the one the caller read, so
  that two pages submitting at once file one request, and the worker's note never overwrites a
  newer ask.

  KEYS[1]  the ask (a string: its JSON)
  ARGV[1]  the value the caller read ('' when there was none)
  ARGV[2]  the new value
  ARGV[3]  how long it lives (ms); '' keeps the current expiry

  Reply: 1 when replaced, 0 when the ask had changed meanwhile.
]]
local current = redis.call('GET', KEYS[1])
if current == false then current = '' end
if current ~= ARGV[1] then return 0 end
if ARGV[3] == '' then
  if current == '' then return 0 end
  redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
else
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
end
return 1
