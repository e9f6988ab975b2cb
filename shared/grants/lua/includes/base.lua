--[[
  What every jitgate script starts with.

  Conventions: KEYS[1] is the audit stream and KEYS[2] the audit chain's head (see audit-chain);
  ARGV[1] is the time in ms. A script answers one JSON object: { ok, code?, detail?, events, ... },
  where events are the audit entries it appended (each as JSON: { id, e, p, h }, see audit-chain),
  even when it failed part-way.

  rcall(command, key, ...) is redis.call on a declared key only. Redis Cluster refuses a script that
  touches a key it was not given in KEYS; a single Redis lets it pass silently, so the check is made
  here, the same on both. Every command these scripts use takes its key (for PUBLISH, its channel)
  as its first argument; scripts call Redis only through rcall.
]]
local declaredKeys = {}
for _, key in ipairs(KEYS) do declaredKeys[key] = true end
local function rcall(command, key, ...)
  if not declaredKeys[key] then
    error('jitgate: ' .. command .. ' on a key the script was not given: ' .. tostring(key))
  end
  return redis.call(command, key, ...)
end

local NOW = tonumber(ARGV[1])
local events = {}

local function hget(key, field)
  local v = rcall('HGET', key, field)
  if v == false then return nil end
  return v
end

local function reply(t)
  t['events'] = events
  return cjson.encode(t)
end

-- A refusal: its code, an optional detail and optional fields for its message (see run.ts refusal).
local function fail(code, detail, fields)
  return reply({ ok = false, code = code, detail = detail, fields = fields })
end
