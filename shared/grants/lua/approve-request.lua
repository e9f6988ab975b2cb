--[[
  One approver's approval. Distinct approvers count once; the approval that reaches the threshold
  decides the request and mints its grant (or, for an extension, lengthens the grant). A request
  past its timeout is expired instead.

  KEYS[1]  audit stream                KEYS[2]  audit chain head
  KEYS[3]  the request (hash)          KEYS[4]  its approvals (set)
  KEYS[5]  pending requests (zset)     KEYS[6]  the requester's pending requests (zset)
  KEYS[7]  the grant: the one to mint (its id derives from the request's), or the one extended
  KEYS[8]  the request that owns that grant (KEYS[3] itself for a new grant)
  KEYS[9]  that request's approvals (set)
  KEYS[10] active grants (zset)        KEYS[11] the requester's grants (zset)
  KEYS[12] the requester's grants for the resource, by Slack user id (hash, includes/access)
  KEYS[13] the same, by the request's e-mail (hash; untouched when it has none)
  KEYS[14] the requester's pending requests as the limits read them (hash, includes/request)

  ARGV[1]  now (ms)
  ARGV[2]  the approver
  ARGV[3]  the id of the grant in KEYS[7]
  ARGV[4]  the requester (whose indexes KEYS[6] and KEYS[11] are)
  ARGV[5]  the request's resource and ARGV[6] its e-mail (those KEYS[12] and KEYS[13] were built from)
  ARGV[7]  the resource's maxDuration now (ms; 0 for none). An extension is capped, when approved, so
           that its grant has no more than this left, nor more than the maximum it was filed under
           (the request's maxDurationMs); when that leaves nothing to add, the approval is refused
           before anything is written (extension_at_maximum) and the request stays pending.
  ARGV[8]  '1' when the approver confirmed this approval in the browser with a fresh sign-in
           (approverStepUp): recorded on the request (steppedUp) and in the event (stepUp)

  Reply: { ok = true, outcome = 'pending' | 'already_approved' | 'granted', approvals (count),
           grantId?, expiresAt?, request, requestApprovals }
    or { ok = false, code = 'no_such_request' | 'request_not_pending' (detail: the status)
           | 'self_approval' | 'grant_not_active' | 'extension_at_maximum', fields? }.
]]
--- @include "includes/base"
--- @include "includes/audit-chain"
--- @include "includes/request"
--- @include "includes/access"
--- @include "includes/grant"

local rk, ak, pk, uk = KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local gk, ork, oak, activeKey, ugk = KEYS[7], KEYS[8], KEYS[9], KEYS[10], KEYS[11]
local uak, eak, upk = KEYS[12], KEYS[13], KEYS[14]
local approver, gid, requester = ARGV[2], ARGV[3], ARGV[4]
local resource, email = ARGV[5], ARGV[6]

if rcall('EXISTS', rk) == 0 then return fail('no_such_request') end
checkRequester(rk, requester)
checkAccessKeys(rk, resource, email)
checkGrantKeys(gk, ork, requester, hget(rk, 'extendsGrant'), gid)
if expireIfLate(rk, ak, pk, uk, upk) then return fail('request_not_pending', 'expired') end
local status = hget(rk, 'status')
if status ~= 'pending' then return fail('request_not_pending', status) end
if approver == requester and hget(rk, 'selfApproval') ~= '1' then return fail('self_approval') end
if rcall('SISMEMBER', ak, approver) == 1 then
  return reply(withRequest({ ok = true, outcome = 'already_approved', approvals = rcall('SCARD', ak) }, rk, ak))
end
local count = rcall('SCARD', ak) + 1
local deciding = count >= tonumber(hget(rk, 'approvalsRequired'))
local id = hget(rk, 'id')

-- The approval that decides an extension: where the grant would end is judged now, before anything
-- is written, under the lower of the maximum now and the one the extension was filed under.
local extendTo, capped
if deciding and hget(rk, 'kind') == 'extension' then
  local maxMs = tonumber(ARGV[7]) or 0
  local filedMax = tonumber(hget(rk, 'maxDurationMs') or '0') or 0
  if filedMax > 0 and (maxMs == 0 or filedMax < maxMs) then maxMs = filedMax end
  extendTo, capped = extensionEnd(tonumber(hget(rk, 'durationMs')), gk, maxMs)
  if capped == 'extension_at_maximum' then return fail(capped, nil, atMaximum(gk, gid, maxMs)) end
  if not extendTo then
    -- The grant ended while its extension was waiting: nothing left to extend.
    rcall('HSET', rk, 'status', 'expired', 'decidedAt', NOW)
    finishRequest(rk, pk, uk, upk)
    retain(rk, ak, NOW)
    audit({ type = 'request.expired', actor = 'jitgate', subject = requester, resource = hget(rk, 'resource'),
      role = hget(rk, 'role'), requestId = id, grantId = gid, reason = 'the grant it extends has ended' })
    return fail('grant_not_active', nil, { grantId = gid })
  end
end

rcall('SADD', ak, approver)
rcall('PEXPIREAT', ak, tonumber(hget(rk, 'pendingUntil')) + RETAIN_MS)
local steppedUp = ARGV[8] == '1'
if steppedUp then rcall('HSET', rk, 'steppedUp', '1') end
audit({ type = 'request.approved', actor = approver, subject = requester, resource = hget(rk, 'resource'),
  role = hget(rk, 'role'), requestId = id, ticket = hget(rk, 'ticket'), approvals = count,
  approvalsRequired = tonumber(hget(rk, 'approvalsRequired')), stepUp = steppedUp })
if not deciding then
  return reply(withRequest({ ok = true, outcome = 'pending', approvals = count }, rk, ak))
end

rcall('HSET', rk, 'status', 'approved', 'decidedAt', NOW, 'decidedBy', approver)
finishRequest(rk, pk, uk, upk)
local expiresAt
if extendTo then
  expiresAt = extend(rk, ak, gk, ork, oak, activeKey, ugk, uak, eak, gid, extendTo, capped)
else
  expiresAt = mint(rk, ak, gk, activeKey, ugk, uak, eak, gid, rcall('SMEMBERS', ak))
end
return reply(withRequest({ ok = true, outcome = 'granted', grantId = hget(rk, 'grantId'), expiresAt = expiresAt,
  approvals = count }, rk, ak))
