--[[
  Files a request. With an auto-approver (auto-approve or break-glass) it is decided in the same
  step: a new grant is minted, or for an extension the grant is lengthened.

  KEYS[1]  audit stream                KEYS[2]  audit chain head
  KEYS[3]  the request (hash)          KEYS[4]  its approvals (set)
  KEYS[5]  pending requests (zset)     KEYS[6]  the requester's pending requests (zset)
  KEYS[7]  the grant: the one to mint (its id derives from the request's), or the one extended
  KEYS[8]  the request that owns that grant (KEYS[3] itself for a new grant)
  KEYS[9]  that request's approvals (set)
  KEYS[10] active grants (zset)        KEYS[11] the requester's grants (zset)
  KEYS[12] the requester's grants for the resource, by Slack user id (hash, includes/access)
  KEYS[13] the same, by the request's e-mail (hash; untouched when it has none)
           (both built by the caller from the fields it passes here, so they cannot disagree)
  KEYS[14] the requester's pending requests as the limits read them (hash, includes/request)
  KEYS[15] break-glass grants not yet reviewed (zset: request id → issued at)

  ARGV[1]  now (ms)
  ARGV[2]  the id of the grant in KEYS[7]
  ARGV[3]  who approved it at once ('' when it waits for approvers)
  ARGV[4]  the resource's maxDuration (ms; 0 for none): an extension never leaves more than this
  ARGV[5]  the most undecided requests the requester may have (0 for no limit)
  ARGV[6]  the most undecided requests for this resource the requester may have (0 for no limit)
  ARGV[7…] the request's fields, as field/value pairs (id, requester, status 'pending', …)

  A request that would wait is refused, before anything is written, when the requester already has
  ARGV[5] undecided requests, or ARGV[6] for this resource, or (an extension) one extending the same
  grant. An auto-approved extension is capped at ARGV[4] from now (includes/grant extensionEnd).

  Reply: { ok = true, outcome = 'pending' | 'granted', grantId?, expiresAt?, request, requestApprovals }
    request is the request's hash as a flat field/value list, requestApprovals its approvers;
    or { ok = false, code = 'request_exists' | 'grant_not_active' | 'extension_at_maximum'
         | 'extension_pending' | 'too_many_pending', fields? } (fields: what the refusal names).
]]
--- @include "includes/base"
--- @include "includes/audit-chain"
--- @include "includes/request"
--- @include "includes/access"
--- @include "includes/grant"

local rk, ak, pk, uk = KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local gk, ork, oak, activeKey, ugk = KEYS[7], KEYS[8], KEYS[9], KEYS[10], KEYS[11]
local uak, eak, upk = KEYS[12], KEYS[13], KEYS[14]
local gid, autoBy = ARGV[2], ARGV[3]
local maxMs, perPerson, perResource = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])

if rcall('EXISTS', rk) == 1 then return fail('request_exists') end
local fields = {}
for i = 7, #ARGV do table.insert(fields, ARGV[i]) end
local f = {}
for i = 1, #fields, 2 do f[fields[i]] = fields[i + 1] end
checkGrantKeys(gk, ork, f['requester'], f['extendsGrant'], gid)

-- Everything that refuses is decided before anything is written.
local ext = f['kind'] == 'extension'
local extendTo, capped
if autoBy ~= '' and ext then
  extendTo, capped = extensionEnd(tonumber(f['durationMs']), gk, maxMs)
  if not extendTo then
    return fail(capped, nil, capped == 'extension_at_maximum' and atMaximum(gk, gid, maxMs) or { grantId = gid })
  end
elseif autoBy == '' then
  local live = pendingOf(upk)
  local named = function(list)
    local out = {}
    for _, e in ipairs(list) do
      table.insert(out, { id = e.id, resource = e.resource, kind = e.kind, grantId = e.grant, pendingUntil = e.untilMs })
    end
    return out
  end
  local sameGrant, sameResource = {}, {}
  for _, e in ipairs(live) do
    if ext and e.kind == 'extension' and e.grant == f['extendsGrant'] then table.insert(sameGrant, e) end
    if not ext and e.kind == 'access' and e.resource == f['resource'] then table.insert(sameResource, e) end
  end
  if #sameGrant > 0 then
    return fail('extension_pending', nil, { grantId = f['extendsGrant'], pending = named(sameGrant) })
  end
  if perResource > 0 and #sameResource >= perResource then
    return fail('too_many_pending', 'resource',
      { scope = 'resource', resource = f['resource'], limit = perResource, pending = named(sameResource) })
  end
  if perPerson > 0 and #live >= perPerson then
    return fail('too_many_pending', 'person', { scope = 'person', limit = perPerson, pending = named(live) })
  end
end

rcall('HSET', rk, unpack(fields))
local id = hget(rk, 'id')
local requester = hget(rk, 'requester')
local ev = { type = 'request.created', actor = requester, subject = requester, resource = hget(rk, 'resource'),
  role = hget(rk, 'role'), requestId = id, ticket = hget(rk, 'ticket'), reason = hget(rk, 'reason'), durationMs = tonumber(hget(rk, 'durationMs')),
  kind = hget(rk, 'kind'), breakGlass = (hget(rk, 'breakGlass') == '1') }
if hget(rk, 'extendsGrant') then ev['grantId'] = hget(rk, 'extendsGrant') end
audit(ev)

if autoBy ~= '' then
  -- Auto-approved or break-glass: decided in the same step, no pending state.
  rcall('HSET', rk, 'status', 'approved', 'decidedAt', NOW, 'decidedBy', autoBy)
  audit({ type = 'request.approved', actor = autoBy, subject = requester, resource = hget(rk, 'resource'),
    role = hget(rk, 'role'), requestId = id, ticket = hget(rk, 'ticket'), reason = (hget(rk, 'breakGlass') == '1') and 'break-glass' or 'auto-approve' })
  local expiresAt
  if ext then
    expiresAt = extend(rk, ak, gk, ork, oak, activeKey, ugk, uak, eak, gid, extendTo, capped)
  else
    expiresAt = mint(rk, ak, gk, activeKey, ugk, uak, eak, gid, {})
    if hget(rk, 'breakGlass') == '1' then rcall('ZADD', KEYS[15], NOW, id) end
  end
  return reply(withRequest({ ok = true, outcome = 'granted', grantId = hget(rk, 'grantId'), expiresAt = expiresAt },
    rk, ak))
end

local pendingUntil = tonumber(hget(rk, 'pendingUntil'))
rcall('ZADD', pk, pendingUntil, id)
rcall('ZADD', uk, pendingUntil, id)
notePending(rk, upk)
retain(rk, ak, pendingUntil)
return reply(withRequest({ ok = true, outcome = 'pending' }, rk, ak))
