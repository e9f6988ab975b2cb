--[[
  Minting and extending grants. The keys, as the scripts that grant declare them:
    gk   the grant's live hash (TTL = its expiry)
    ork  the request that owns the grant (for a new grant, the approved request itself)
    oak  that request's approvals
    ak_  active grants (zset: grant id by expiry)
    ugk  the holder's grants (zset)
    uak, eak  the holder's grants for the resource, by Slack user id and by e-mail (includes/access)
]]

-- The caller named the grant's keys from ids that never change (a grant's id is its request's id
-- with another prefix); a mismatch is a bug in the caller: stop before anything is written.
-- extendsGrant is the request's (nil unless it is an extension), gid the grant id given.
local function checkGrantKeys(gk, ork, holder, extendsGrant, gid)
  if extendsGrant and extendsGrant ~= gid then
    error('jitgate: the grant given is not the one this extension extends')
  end
  if rcall('EXISTS', gk) == 0 then return end
  if hget(gk, 'requestId') ~= hget(ork, 'id') or hget(gk, 'user') ~= holder then
    error('jitgate: the keys given are not those of this grant')
  end
end

-- Mints the grant of an approved request (rk, ak): the live key, the indexes, grant.issued.
local function mint(rk, ak, gk, activeKey, ugk, uak, eak, gid, approvers)
  local r = rcall('HGETALL', rk)
  local f = {}
  for i = 1, #r, 2 do f[r[i]] = r[i + 1] end
  local expiresAt = NOW + tonumber(f['durationMs'])
  rcall('HSET', gk, 'status', 'active', 'user', f['requester'], 'email', f['email'],
    'resource', f['resource'], 'role', f['role'], 'expiresAt', expiresAt, 'requestId', f['id'])
  rcall('PEXPIREAT', gk, expiresAt)
  rcall('HSET', rk, 'grantId', gid, 'grantStatus', 'active', 'issuedAt', NOW, 'expiresAt', expiresAt)
  retain(rk, ak, expiresAt)
  rcall('ZADD', activeKey, expiresAt, gid)
  rcall('ZADD', ugk, expiresAt, gid)
  rcall('ZREMRANGEBYSCORE', ugk, '-inf', NOW)
  accessSet(uak, eak, gid, 'active', expiresAt, f['role'], f['requester'], f['team'], f['email'])
  audit({ type = 'grant.issued', actor = f['decidedBy'] or f['requester'], subject = f['requester'],
    resource = f['resource'], role = f['role'], requestId = f['id'], ticket = f['ticket'], grantId = gid,
    reason = f['reason'], approvers = approvers, expiresAt = expiresAt,
    breakGlass = (f['breakGlass'] == '1') })
  return expiresAt
end

-- The least an extension adds: less than this (a grant already at its maximum) is refused instead.
local MIN_EXTENSION_MS = 60000

-- Where an extension asking for addMs would end its grant (gk), judged now: the grant's end plus the
-- time asked for, but never more than maxMs from now (the resource's maxDuration; 0 for none), and
-- never earlier than it ends already. Answers the new end and whether it was capped, or nil and
-- why not: 'grant_not_active', or 'extension_at_maximum' when the cap leaves less than a minute
-- (or than what was asked, if that was less) to add.
local function extensionEnd(add, gk, maxMs)
  if hget(gk, 'status') ~= 'active' then return nil, 'grant_not_active' end
  local old = tonumber(hget(gk, 'expiresAt'))
  if old == nil or old <= NOW then return nil, 'grant_not_active' end
  local expiresAt, capped = old + add, false
  if maxMs > 0 and expiresAt > NOW + maxMs then
    expiresAt, capped = NOW + maxMs, true
  end
  if expiresAt - old < math.min(add, MIN_EXTENSION_MS) then return nil, 'extension_at_maximum' end
  return expiresAt, capped
end

-- The fields of an extension_at_maximum refusal: which grant, what it has left, the maximum.
local function atMaximum(gk, gid, maxMs)
  return { grantId = gid, leftMs = tonumber(hget(gk, 'expiresAt')) - NOW, maxMs = maxMs }
end

-- Lengthens an active grant to expiresAt (from extensionEnd) for the extension request (rk, ak):
-- the live key, its TTL, the indexes and the original request. The extension records what it
-- added (addedMs), less than it asked for when capped.
local function extend(rk, ak, gk, ork, oak, activeKey, ugk, uak, eak, gid, expiresAt, capped)
  local old = tonumber(hget(gk, 'expiresAt'))
  local user = hget(gk, 'user')
  rcall('HSET', gk, 'expiresAt', expiresAt)
  rcall('PEXPIREAT', gk, expiresAt)
  rcall('HSET', ork, 'expiresAt', expiresAt)
  retain(ork, oak, expiresAt)
  rcall('HSET', rk, 'grantId', gid, 'expiresAt', expiresAt, 'addedMs', expiresAt - old,
    'capped', capped and '1' or '0')
  retain(rk, ak, expiresAt)
  rcall('ZADD', activeKey, expiresAt, gid)
  rcall('ZADD', ugk, expiresAt, gid)
  accessUpdate(uak, eak, gid, 'active', expiresAt)
  audit({ type = 'grant.extended', actor = hget(rk, 'decidedBy'), subject = user,
    resource = hget(gk, 'resource'), role = hget(gk, 'role'), requestId = hget(rk, 'id'),
    ticket = hget(rk, 'ticket'), grantId = gid, reason = hget(rk, 'reason'), previousExpiresAt = old, expiresAt = expiresAt,
    askedMs = tonumber(hget(rk, 'durationMs')), addedMs = expiresAt - old, capped = capped })
  return expiresAt
end
