--[[
  The escalation job: a request still undecided at its resource's escalateAfter is marked escalated
  (from then on its escalateTo people may decide it) and audited. Anything else changes nothing:
  a decided request, one already escalated, one past its timeout (its timeout job expires it and
  tells the requester).

  KEYS[1] audit stream                KEYS[2] audit chain head
  KEYS[3] the request (hash)          KEYS[4] its approvals (set)
  KEYS[5] pending requests (zset)     KEYS[6] the requester's pending requests (zset)

  ARGV[1] now (ms)
  ARGV[2] the requester (whose index KEYS[6] is)

  Reply: { ok = true, outcome = 'escalated' | 'already_escalated' | 'noop', request, requestApprovals }
    or { ok = false, code = 'no_such_request' }.
]]
--- @include "includes/base"
--- @include "includes/audit-chain"
--- @include "includes/request"

local rk, ak = KEYS[3], KEYS[4]

if rcall('EXISTS', rk) == 0 then return fail('no_such_request') end
checkRequester(rk, ARGV[2])
local late = NOW >= tonumber(hget(rk, 'pendingUntil'))
if late or hget(rk, 'status') ~= 'pending' or not hget(rk, 'escalateTo') then
  return reply(withRequest({ ok = true, outcome = 'noop' }, rk, ak))
end
if hget(rk, 'escalatedAt') then return reply(withRequest({ ok = true, outcome = 'already_escalated' }, rk, ak)) end
rcall('HSET', rk, 'escalatedAt', NOW)
local to = {}
for id in string.gmatch(hget(rk, 'escalateTo'), '[^,]+') do table.insert(to, id) end
audit({ type = 'request.escalated', actor = 'jitgate', subject = hget(rk, 'requester'), resource = hget(rk, 'resource'),
  role = hget(rk, 'role'), requestId = hget(rk, 'id'), ticket = hget(rk, 'ticket'), escalatedTo = to,
  approvals = rcall('SCARD', ak) })
return reply(withRequest({ ok = true, outcome = 'escalated' }, rk, ak))
