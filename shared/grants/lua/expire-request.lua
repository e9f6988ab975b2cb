--[[
  The pending-timeout job: expires an undecided request past its timeout; otherwise changes nothing.

  KEYS[1] audit stream                KEYS[2] audit chain head
  KEYS[3] the request (hash)          KEYS[4] its approvals (set)
  KEYS[5] pending requests (zset)     KEYS[6] the requester's pending requests (zset)
  KEYS[7] the same as the limits read them (hash, includes/request)

  ARGV[1] now (ms)
  ARGV[2] the requester (whose index KEYS[6] is)

  Reply: { ok = true, outcome = 'expired' | 'noop', status?, request, requestApprovals }
    or { ok = false, code = 'no_such_request' }.
]]
--- @include "includes/base"
--- @include "includes/audit-chain"
--- @include "includes/request"

local rk, ak, pk, uk, upk = KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]

if rcall('EXISTS', rk) == 0 then return fail('no_such_request') end
checkRequester(rk, ARGV[2])
if expireIfLate(rk, ak, pk, uk, upk) then return reply(withRequest({ ok = true, outcome = 'expired' }, rk, ak)) end
return reply(withRequest({ ok = true, outcome = 'noop', status = hget(rk, 'status') }, rk, ak))
