#!lua flags=allow-oom
--[[
  Ends an active grant at once and tells every authorizer (PUBLISH of the grant id). The live key
  stays, with status revoked, until its natural expiry so that a refusal can say why. A second
  revoke answers already_revoked and writes nothing.

  KEYS[1] audit stream                KEYS[2] audit chain head
  KEYS[3] the grant (hash)
  KEYS[4] the request that owns it    KEYS[5] that request's approvals (set)
  KEYS[6] active grants (zset)        KEYS[7] the holder's grants (zset)
  KEYS[8] the revocation channel (pub/sub; declared so that its slot is known)
  KEYS[9] the holder's grants for the resource, by Slack user id (hash, includes/access)
  KEYS[10] the same, by the grant's e-mail (hash; untouched when it has none)

  ARGV[1] now (ms)
  ARGV[2] who revokes
  ARGV[3] the reason ('' for none)
  ARGV[4] the grant id
  ARGV[5] the holder (the requester of KEYS[4], whose index KEYS[7] is)
  ARGV[6] the grant's resource and ARGV[7] its e-mail (those KEYS[9] and KEYS[10] were built from)

  Reply: { ok = true, outcome = 'revoked' | 'already_revoked', requestId, request, requestApprovals }
    or { ok = false, code = 'no_such_grant' | 'grant_not_active' (detail: 'expired' or the status) }.
  Runs on a full Redis too (allow-oom, the first line; Redis 7 or later): ending access must never
  wait for memory. Its writes are a few small fields, an audit event and a PUBLISH.
]]
--- @include "includes/base"
--- @include "includes/audit-chain"
--- @include "includes/request"
--- @include "includes/access"

local gk, rk, ak, activeKey, ugk, channel = KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8]
local actor, reason, gid, holder = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local uak, eak = KEYS[9], KEYS[10]

if hget(rk, 'grantId') ~= gid then return fail('no_such_grant') end
checkRequester(rk, holder)
checkAccessKeys(rk, ARGV[6], ARGV[7])
local rid = hget(rk, 'id')
local gs = hget(rk, 'grantStatus')
if gs == 'revoked' then
  return reply(withRequest({ ok = true, outcome = 'already_revoked', requestId = rid }, rk, ak))
end
local expiresAt = tonumber(hget(rk, 'expiresAt'))
if gs ~= 'active' or rcall('EXISTS', gk) == 0 or NOW >= expiresAt then
  return fail('grant_not_active', gs == 'active' and 'expired' or gs)
end
rcall('HSET', gk, 'status', 'revoked')
rcall('HSET', rk, 'grantStatus', 'revoked', 'endedAt', NOW, 'endedBy', actor)
rcall('ZREM', activeKey, gid)
rcall('ZREM', ugk, gid)
accessUpdate(uak, eak, gid, 'revoked', nil)
audit({ type = 'grant.revoked', actor = actor, subject = holder, resource = hget(rk, 'resource'),
  role = hget(rk, 'role'), requestId = rid, ticket = hget(rk, 'ticket'), grantId = gid, reason = reason })
rcall('PUBLISH', channel, gid)
return reply(withRequest({ ok = true, outcome = 'revoked', requestId = rid }, rk, ak))
