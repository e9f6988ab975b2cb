--[[
  audit(event): appends an event to the hash-chained audit stream (KEYS[1]) and moves the chain's
  head (KEYS[2]). Each entry holds the event (e), the previous hash (p) and its own hash
  (h = SHA-1 of p, a newline and e); shared/audit/chain.ts verifies the chain the same way.
  The reply's events carry each entry's stream id and hashes beside the event, so that the JSON log
  (a SIEM's copy) can be checked against the chain.
]]
local function audit(ev)
  ev['at'] = NOW
  local json = cjson.encode(ev)
  local prev = rcall('GET', KEYS[2]) or 'genesis'
  local hash = redis.sha1hex(prev .. '\n' .. json)
  local id = rcall('XADD', KEYS[1], '*', 'e', json, 'p', prev, 'h', hash)
  rcall('SET', KEYS[2], hash)
  table.insert(events, cjson.encode({ id = id, e = json, p = prev, h = hash }))
end
