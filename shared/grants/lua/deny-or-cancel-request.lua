--[[
  Ends an undecided request without a grant: an approver denies it, or its requester cancels it.
  A request past its timeout is expired instead.

  KEYS[1] audit stream                KEYS[2] audit chain head
  KEYS[3] the request (hash)          KEYS[4] its approvals (set)
  KEYS[5] pending requests (zset)     KEYS[6] the requester's pending requests (zset)
  KEYS[7] the same as the limits read them (hash, includes/request)

  ARGV[1] now (ms)
  ARGV[2] who denies or cancels
  ARGV[3] the reason ('' for none)
  ARGV[4] 'deny' | 'cancel'
  ARGV[5] the requester (whose index KEYS[6] is)

  Reply: { ok = true, outcome = 'denied' | 'cancelled', request, requestApprovals }
    or { ok = false, code = 'no_such_request' | 'request_not_pending' (detail: the status)
           | 'not_allowed_to_cancel' }.
]]
--- @include "includes/base"
--- @include "includes/audit-chain"
--- @include "includes/request"

local rk, ak, pk, uk, upk = KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]
local actor, reason, mode, requester = ARGV[2], ARGV[3], ARGV[4], ARGV[5]

if rcall('EXISTS', rk) == 0 then return fail('no_such_request') end
checkRequester(rk, requester)
if expireIfLate(rk, ak, pk, uk, upk) then return fail('request_not_pending', 'expired') end
local status = hget(rk, 'status')
if status ~= 'pending' then return fail('request_not_pending', status) end
if mode == 'cancel' and actor ~= requester then return fail('not_allowed_to_cancel') end
local newStatus = (mode == 'cancel') and 'cancelled' or 'denied'
rcall('HSET', rk, 'status', newStatus, 'decidedAt', NOW, 'decidedBy', actor)
if reason ~= '' then rcall('HSET', rk, 'denyReason', reason) end
finishRequest(rk, pk, uk, upk)
retain(rk, ak, NOW)
audit({ type = 'request.' .. newStatus, actor = actor, subject = requester, resource = hget(rk, 'resource'),
  role = hget(rk, 'role'), requestId = hget(rk, 'id'), ticket = hget(rk, 'ticket'), reason = reason })
return reply(withRequest({ ok = true, outcome = newStatus }, rk, ak))
