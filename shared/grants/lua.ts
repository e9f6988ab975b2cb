/**
 * The Lua scripts behind every lifecycle transition. Each one checks the state it needs, changes it,
 * and appends its audit events to the hash-chained stream in the same atomic step, so no transition
 * is half-written and no event is lost or reordered.
 *
 * Conventions: KEYS[1] is the audit stream and KEYS[2] the chain head; ARGV[1] is the hash-tagged
 * key prefix, ARGV[2] the time in ms. Keys other than the declared ones are derived from the
 * prefix; all of them share its hash tag, hence one Cluster slot. Every script answers one JSON
 * object: `{ ok, code?, events: [...] , ... }`.
 */
const PRELUDE = `
local P = ARGV[1]
local NOW = tonumber(ARGV[2])
local RETAIN_MS = 7 * 86400000
local events = {}
local function audit(ev)
  ev['at'] = NOW
  local json = cjson.encode(ev)
  local prev = redis.call('GET', KEYS[2]) or 'genesis'
  local hash = redis.sha1hex(prev .. '\\n' .. json)
  redis.call('XADD', KEYS[1], '*', 'e', json, 'p', prev, 'h', hash)
  redis.call('SET', KEYS[2], hash)
  table.insert(events, json)
end
local function reply(t)
  t['events'] = events
  return cjson.encode(t)
end
local function fail(code, detail)
  return reply({ ok = false, code = code, detail = detail })
end
local function hget(key, field)
  local v = redis.call('HGET', key, field)
  if v == false then return nil end
  return v
end
local function reqKey(id) return P .. ':req:' .. id end
local function grantKey(id) return P .. ':grant:' .. id end
local function finishRequest(rk, id, requester)
  redis.call('ZREM', P .. ':pending', id)
  redis.call('ZREM', P .. ':user:' .. requester .. ':requests', id)
end
local function retain(rk, untilMs)
  redis.call('PEXPIREAT', rk, untilMs + RETAIN_MS)
  redis.call('PEXPIREAT', rk .. ':approvals', untilMs + RETAIN_MS)
end
-- Mints the grant of an approved request: the live key (TTL = expiry), indexes, audit.
local function mint(rk, gid, approvers)
  local r = redis.call('HGETALL', rk)
  local f = {}
  for i = 1, #r, 2 do f[r[i]] = r[i + 1] end
  local expiresAt = NOW + tonumber(f['durationMs'])
  local gk = grantKey(gid)
  redis.call('HSET', gk, 'status', 'active', 'user', f['requester'], 'email', f['email'],
    'resource', f['resource'], 'role', f['role'], 'expiresAt', expiresAt, 'requestId', f['id'])
  redis.call('PEXPIREAT', gk, expiresAt)
  redis.call('HSET', rk, 'grantId', gid, 'grantStatus', 'active', 'issuedAt', NOW, 'expiresAt', expiresAt)
  retain(rk, expiresAt)
  redis.call('ZADD', P .. ':active', expiresAt, gid)
  redis.call('ZADD', P .. ':user:' .. f['requester'] .. ':grants', expiresAt, gid)
  redis.call('ZREMRANGEBYSCORE', P .. ':user:' .. f['requester'] .. ':grants', '-inf', NOW)
  audit({ type = 'grant.issued', actor = f['decidedBy'] or f['requester'], subject = f['requester'],
    resource = f['resource'], role = f['role'], requestId = f['id'], grantId = gid,
    reason = f['reason'], approvers = approvers, expiresAt = expiresAt,
    breakGlass = (f['breakGlass'] == '1') })
  return expiresAt
end
-- Lengthens an active grant: the live key, its TTL, the indexes and the original request.
local function extend(rk, gid)
  local gk = grantKey(gid)
  if hget(gk, 'status') ~= 'active' then return nil end
  local old = tonumber(hget(gk, 'expiresAt'))
  local add = tonumber(hget(rk, 'durationMs'))
  local expiresAt = old + add
  local user = hget(gk, 'user')
  local ork = reqKey(hget(gk, 'requestId'))
  redis.call('HSET', gk, 'expiresAt', expiresAt)
  redis.call('PEXPIREAT', gk, expiresAt)
  redis.call('HSET', ork, 'expiresAt', expiresAt)
  retain(ork, expiresAt)
  redis.call('HSET', rk, 'grantId', gid, 'expiresAt', expiresAt)
  retain(rk, expiresAt)
  redis.call('ZADD', P .. ':active', expiresAt, gid)
  redis.call('ZADD', P .. ':user:' .. user .. ':grants', expiresAt, gid)
  audit({ type = 'grant.extended', actor = hget(rk, 'decidedBy'), subject = user,
    resource = hget(gk, 'resource'), role = hget(gk, 'role'), requestId = hget(rk, 'id'),
    grantId = gid, reason = hget(rk, 'reason'), previousExpiresAt = old, expiresAt = expiresAt })
  return expiresAt
end
-- An undecided request past its timeout: expire it, whoever noticed first.
local function expireIfLate(rk)
  if hget(rk, 'status') ~= 'pending' then return false end
  if NOW < tonumber(hget(rk, 'pendingUntil')) then return false end
  local id = hget(rk, 'id')
  local requester = hget(rk, 'requester')
  redis.call('HSET', rk, 'status', 'expired', 'decidedAt', NOW)
  finishRequest(rk, id, requester)
  retain(rk, NOW)
  audit({ type = 'request.expired', actor = 'jitgate', subject = requester, resource = hget(rk, 'resource'),
    role = hget(rk, 'role'), requestId = id, reason = 'no decision in time' })
  return true
end
`;

/** KEYS: stream, head, request. ARGV: prefix, now, grantId (used when granted at once), then field/value pairs. */
export const CREATE_REQUEST = `${PRELUDE}
local rk = KEYS[3]
if redis.call('EXISTS', rk) == 1 then return fail('request_exists') end
local gid = ARGV[3]
local autoBy = ARGV[4]
local fields = {}
for i = 5, #ARGV do table.insert(fields, ARGV[i]) end
redis.call('HSET', rk, unpack(fields))
local id = hget(rk, 'id')
local requester = hget(rk, 'requester')
local ev = { type = 'request.created', actor = requester, subject = requester, resource = hget(rk, 'resource'),
  role = hget(rk, 'role'), requestId = id, reason = hget(rk, 'reason'), durationMs = tonumber(hget(rk, 'durationMs')),
  kind = hget(rk, 'kind'), breakGlass = (hget(rk, 'breakGlass') == '1') }
if hget(rk, 'extendsGrant') then ev['grantId'] = hget(rk, 'extendsGrant') end
audit(ev)
if autoBy ~= '' then
  -- Auto-approved or break-glass: decided in the same step, no pending state.
  redis.call('HSET', rk, 'status', 'approved', 'decidedAt', NOW, 'decidedBy', autoBy)
  audit({ type = 'request.approved', actor = autoBy, subject = requester, resource = hget(rk, 'resource'),
    role = hget(rk, 'role'), requestId = id, reason = (hget(rk, 'breakGlass') == '1') and 'break-glass' or 'auto-approve' })
  local expiresAt
  if hget(rk, 'kind') == 'extension' then
    expiresAt = extend(rk, hget(rk, 'extendsGrant'))
    if not expiresAt then return fail('grant_not_active') end
  else
    expiresAt = mint(rk, gid, {})
  end
  return reply({ ok = true, outcome = 'granted', grantId = hget(rk, 'grantId'), expiresAt = expiresAt })
end
local pendingUntil = tonumber(hget(rk, 'pendingUntil'))
redis.call('ZADD', P .. ':pending', pendingUntil, id)
redis.call('ZADD', P .. ':user:' .. requester .. ':requests', pendingUntil, id)
retain(rk, pendingUntil)
return reply({ ok = true, outcome = 'pending' })
`;

/** KEYS: stream, head, request, approvals. ARGV: prefix, now, approver, grantId (minted if this approval reaches the threshold). */
export const APPROVE = `${PRELUDE}
local rk, ak = KEYS[3], KEYS[4]
local approver, gid = ARGV[3], ARGV[4]
if redis.call('EXISTS', rk) == 0 then return fail('no_such_request') end
if expireIfLate(rk) then return fail('request_not_pending', 'expired') end
local status = hget(rk, 'status')
if status ~= 'pending' then return fail('request_not_pending', status) end
local requester = hget(rk, 'requester')
if approver == requester and hget(rk, 'selfApproval') ~= '1' then return fail('self_approval') end
if redis.call('SADD', ak, approver) == 0 then
  return reply({ ok = true, outcome = 'already_approved', approvals = redis.call('SCARD', ak) })
end
redis.call('PEXPIREAT', ak, tonumber(hget(rk, 'pendingUntil')) + RETAIN_MS)
local count = redis.call('SCARD', ak)
local id = hget(rk, 'id')
audit({ type = 'request.approved', actor = approver, subject = requester, resource = hget(rk, 'resource'),
  role = hget(rk, 'role'), requestId = id, approvals = count, approvalsRequired = tonumber(hget(rk, 'approvalsRequired')) })
if count < tonumber(hget(rk, 'approvalsRequired')) then
  return reply({ ok = true, outcome = 'pending', approvals = count })
end
redis.call('HSET', rk, 'status', 'approved', 'decidedAt', NOW, 'decidedBy', approver)
finishRequest(rk, id, requester)
local expiresAt
if hget(rk, 'kind') == 'extension' then
  expiresAt = extend(rk, hget(rk, 'extendsGrant'))
  if not expiresAt then
    -- The grant ended while its extension was waiting: nothing left to extend.
    redis.call('HSET', rk, 'status', 'expired')
    retain(rk, NOW)
    return fail('grant_not_active')
  end
else
  expiresAt = mint(rk, gid, redis.call('SMEMBERS', ak))
end
return reply({ ok = true, outcome = 'granted', grantId = hget(rk, 'grantId'), expiresAt = expiresAt, approvals = count })
`;

/** KEYS: stream, head, request. ARGV: prefix, now, actor, reason, mode ('deny' | 'cancel'). */
export const DENY_OR_CANCEL = `${PRELUDE}
local rk = KEYS[3]
local actor, reason, mode = ARGV[3], ARGV[4], ARGV[5]
if redis.call('EXISTS', rk) == 0 then return fail('no_such_request') end
if expireIfLate(rk) then return fail('request_not_pending', 'expired') end
local status = hget(rk, 'status')
if status ~= 'pending' then return fail('request_not_pending', status) end
local requester = hget(rk, 'requester')
if mode == 'cancel' and actor ~= requester then return fail('not_allowed_to_cancel') end
local id = hget(rk, 'id')
local newStatus = (mode == 'cancel') and 'cancelled' or 'denied'
redis.call('HSET', rk, 'status', newStatus, 'decidedAt', NOW, 'decidedBy', actor)
if reason ~= '' then redis.call('HSET', rk, 'denyReason', reason) end
finishRequest(rk, id, requester)
retain(rk, NOW)
audit({ type = 'request.' .. newStatus, actor = actor, subject = requester, resource = hget(rk, 'resource'),
  role = hget(rk, 'role'), requestId = id, reason = reason })
return reply({ ok = true, outcome = newStatus })
`;

/** KEYS: stream, head, request. ARGV: prefix, now. The pending-timeout job. */
export const EXPIRE_REQUEST = `${PRELUDE}
local rk = KEYS[3]
if redis.call('EXISTS', rk) == 0 then return fail('no_such_request') end
if expireIfLate(rk) then return reply({ ok = true, outcome = 'expired' }) end
return reply({ ok = true, outcome = 'noop', status = hget(rk, 'status') })
`;

/** KEYS: stream, head, grant, revocation channel. ARGV: prefix, now, actor, reason, grantId, requestId (may be ''). */
export const REVOKE = `${PRELUDE}
local gk = KEYS[3]
local actor, reason, gid, rid = ARGV[3], ARGV[4], ARGV[5], ARGV[6]
if rid == '' then rid = hget(gk, 'requestId') or '' end
if rid == '' then return fail('no_such_grant') end
local rk = reqKey(rid)
if hget(rk, 'grantId') ~= gid then return fail('no_such_grant') end
local gs = hget(rk, 'grantStatus')
if gs == 'revoked' then return reply({ ok = true, outcome = 'already_revoked', requestId = rid }) end
local expiresAt = tonumber(hget(rk, 'expiresAt'))
if gs ~= 'active' or redis.call('EXISTS', gk) == 0 or NOW >= expiresAt then
  return fail('grant_not_active', gs == 'active' and 'expired' or gs)
end
local user = hget(rk, 'requester')
-- The live key stays (status revoked) until its natural expiry so that a refusal can say why.
redis.call('HSET', gk, 'status', 'revoked')
redis.call('HSET', rk, 'grantStatus', 'revoked', 'endedAt', NOW, 'endedBy', actor)
redis.call('ZREM', P .. ':active', gid)
redis.call('ZREM', P .. ':user:' .. user .. ':grants', gid)
audit({ type = 'grant.revoked', actor = actor, subject = user, resource = hget(rk, 'resource'),
  role = hget(rk, 'role'), requestId = rid, grantId = gid, reason = reason })
redis.call('PUBLISH', KEYS[4], gid)
return reply({ ok = true, outcome = 'revoked', requestId = rid })
`;

/** KEYS: stream, head, request, revocation channel. ARGV: prefix, now, grantId. The expiry job. */
export const EXPIRE_GRANT = `${PRELUDE}
local rk = KEYS[3]
local gid = ARGV[3]
if hget(rk, 'grantId') ~= gid then return fail('no_such_grant') end
local gs = hget(rk, 'grantStatus')
if gs ~= 'active' then return reply({ ok = true, outcome = 'noop', status = gs }) end
local expiresAt = tonumber(hget(rk, 'expiresAt'))
if NOW < expiresAt then return reply({ ok = true, outcome = 'not_yet', expiresAt = expiresAt }) end
local user = hget(rk, 'requester')
redis.call('HSET', rk, 'grantStatus', 'expired', 'endedAt', expiresAt)
redis.call('DEL', grantKey(gid))
redis.call('ZREM', P .. ':active', gid)
redis.call('ZREM', P .. ':user:' .. user .. ':grants', gid)
audit({ type = 'grant.expired', actor = 'jitgate', subject = user, resource = hget(rk, 'resource'),
  role = hget(rk, 'role'), requestId = hget(rk, 'id'), grantId = gid, expiresAt = expiresAt })
redis.call('PUBLISH', KEYS[4], gid)
return reply({ ok = true, outcome = 'expired' })
`;

/** KEYS: stream, head, code, used-marker. ARGV: prefix, now, marker TTL ms. */
export const REDEEM = `${PRELUDE}
local gid = redis.call('GETDEL', KEYS[3])
if not gid then
  if redis.call('EXISTS', KEYS[4]) == 1 then return fail('code_used') end
  return fail('code_unknown')
end
redis.call('SET', KEYS[4], '1', 'PX', tonumber(ARGV[3]))
local gk = grantKey(gid)
if hget(gk, 'status') ~= 'active' or NOW >= tonumber(hget(gk, 'expiresAt')) then
  return fail('grant_not_active', hget(gk, 'status') or 'expired')
end
audit({ type = 'grant.redeemed', actor = hget(gk, 'user'), subject = hget(gk, 'user'), resource = hget(gk, 'resource'),
  role = hget(gk, 'role'), requestId = hget(gk, 'requestId'), grantId = gid })
return reply({ ok = true, grantId = gid })
`;

/** KEYS: stream, head. ARGV: prefix, now, event JSON (an object without `at`). */
export const APPEND_AUDIT = `${PRELUDE}
local ev = cjson.decode(ARGV[3])
audit(ev)
return reply({ ok = true })
`;

/** KEYS: stream, head, grant. ARGV: prefix, now, grantId, requests count. First use and usage counts. */
export const RECORD_USE = `${PRELUDE}
local gk = KEYS[3]
local gid, count = ARGV[3], tonumber(ARGV[4])
if redis.call('EXISTS', gk) == 0 then return reply({ ok = true, outcome = 'gone' }) end
local first = redis.call('HSETNX', gk, 'firstUsedAt', NOW) == 1
redis.call('HINCRBY', gk, 'uses', count)
audit({ type = 'access.allowed', actor = hget(gk, 'user'), subject = hget(gk, 'user'), resource = hget(gk, 'resource'),
  role = hget(gk, 'role'), requestId = hget(gk, 'requestId'), grantId = gid, firstUse = first, requests = count })
return reply({ ok = true, outcome = first and 'first' or 'counted' })
`;
