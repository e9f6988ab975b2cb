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

-- Lengthens an active grant by the extension request's (rk, ak) duration: the live key, its TTL,
-- the indexes and the original request. Nil when the grant is no longer active.
local function extend(rk, ak, gk, ork, oak, activeKey, ugk, uak, eak, gid)
  if hget(gk, 'status') ~= 'active' then return nil end
  local old = tonumber(hget(gk, 'expiresAt'))
  local add = tonumber(hget(rk, 'durationMs'))
  local expiresAt = old + add
  local user = hget(gk, 'user')
  rcall('HSET', gk, 'expiresAt', expiresAt)
  rcall('PEXPIREAT', gk, expiresAt)
  rcall('HSET', ork, 'expiresAt', expiresAt)
  retain(ork, oak, expiresAt)
  rcall('HSET', rk, 'grantId', gid, 'expiresAt', expiresAt)
  retain(rk, ak, expiresAt)
  rcall('ZADD', activeKey, expiresAt, gid)
  rcall('ZADD', ugk, expiresAt, gid)
  accessUpdate(uak, eak, gid, 'active', expiresAt)
  audit({ type = 'grant.extended', actor = hget(rk, 'decidedBy'), subject = user,
    resource = hget(gk, 'resource'), role = hget(gk, 'role'), requestId = hget(rk, 'id'),
    ticket = hget(rk, 'ticket'), grantId = gid, reason = hget(rk, 'reason'), previousExpiresAt = old, expiresAt = expiresAt })
  return expiresAt
end
