--[[
  Appends one audit event about a refused use of a real grant (access.denied with a verified token
  or a session's grant, grant.redeem_refused), at most ARGV[3] per grant in a window of ARGV[4] ms
  that starts at the grant's first such refusal. Further refusals in the window are not appended:
  the authorizer counts them with every other refusal (shared/audit/refusal-counts.ts), so that a
  holder hammering a revoked grant cannot grow the stream without bound.

  KEYS[1] audit stream                KEYS[2] audit chain head
  KEYS[3] the grant's audited-refusals counter (string; expires with the window)

  ARGV[1] now (ms)
  ARGV[2] the event as JSON (an object with a type, without at; its strings already bounded)
  ARGV[3] how many events per grant and window
  ARGV[4] the window (ms)

  Reply: { ok = true, audited = true | false }.
]]
--- @include "includes/base"
--- @include "includes/audit-chain"

local n = rcall('INCR', KEYS[3])
if n == 1 then rcall('PEXPIRE', KEYS[3], tonumber(ARGV[4])) end
if n > tonumber(ARGV[3]) then return reply({ ok = true, audited = false }) end
audit(cjson.decode(ARGV[2]))
return reply({ ok = true, audited = true })
