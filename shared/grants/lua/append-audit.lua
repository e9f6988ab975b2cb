--[[
  Appends one audit event, for a decision that changes no state (such as access.denied).

  KEYS[1] audit stream                KEYS[2] audit chain head
  ARGV[1] now (ms)
  ARGV[2] the event as JSON (an object with a type, without at)

  Reply: { ok = true }.
]]
--- @include "includes/base"
--- @include "includes/audit-chain"

audit(cjson.decode(ARGV[2]))
return reply({ ok = true })
