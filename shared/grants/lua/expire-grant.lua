#!lua flags=allow-oom
--[[
  The expiry job: ends a grant whose time is up (deletes the live key, marks its entry in the
  person's grants expired, tells every authorizer). Changes nothing when the grant already ended, or was extended past now.

  KEYS[1] audit stream                KEYS[2] audit chain head
  KEYS[3] the request that owns the grant (hash)
  KEYS[4] that request's approvals (set)
  KEYS[5] the grant (hash)
  KEYS[6] active grants (zset)        KEYS[7] the holder's grants (zset)
  KEYS[8] the revocation channel (pub/sub; declared so that its slot is known)
  KEYS[9] the holder's grants for the resource, by Slack user id (hash, includes/access)
  KEYS[10] the same, by the grant's e-mail (hash; untouched when it has none)

  ARGV[1] now (ms)
  ARGV[2] the grant id
  ARGV[3] the holder (the requester of KEYS[3], whose index KEYS[7] is)
  ARGV[4] the grant's resource and ARGV[5] its e-mail (those KEYS[9] and KEYS[10] were built from)

  Reply: { ok = true, outcome = 'expired' | 'noop' | 'not_yet', status? (noop: the grant's status),
           expiresAt? (not_yet: the expiry now), request, requestApprovals }
    or { ok = false, code = 'no_such_grant' }.
  Runs on a full Redis too (allow-oom, the first line; Redis 7 or later): ending access must never
  wait for memory. Its writes are a few small fields, an audit event and a PUBLISH.
]]
--- @include "includes/base"
--- @include "includes/audit-chain"
--- @include "includes/request"
--- @include "includes/access"

local rk, ak, gk, activeKey, ugk, channel = KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8]
local gid, holder = ARGV[2], ARGV[3]
local uak, eak = KEYS[9], KEYS[10]

if hget(rk, 'grantId') ~= gid then return fail('no_such_grant') end
checkRequester(rk, holder)
checkAccessKeys(rk, ARGV[4], ARGV[5])
local gs = hget(rk, 'grantStatus')
if gs ~= 'active' then return reply(withRequest({ ok = true, outcome = 'noop', status = gs }, rk, ak)) end
local expiresAt = tonumber(hget(rk, 'expiresAt'))
if NOW < expiresAt then
  return reply(withRequest({ ok = true, outcome = 'not_yet', expiresAt = expiresAt }, rk, ak))
end
rcall('HSET', rk, 'grantStatus', 'expired', 'endedAt', expiresAt)
rcall('DEL', gk)
rcall('ZREM', activeKey, gid)
rcall('ZREM', ugk, gid)
accessUpdate(uak, eak, gid, 'expired', nil)
audit({ type = 'grant.expired', actor = 'jitgate', subject = holder, resource = hget(rk, 'resource'),
  role = hget(rk, 'role'), requestId = hget(rk, 'id'), ticket = hget(rk, 'ticket'), grantId = gid, expiresAt = expiresAt })
rcall('PUBLISH', channel, gid)
return reply(withRequest({ ok = true, outcome = 'expired' }, rk, ak))
