--[[
  A request's keys, as every request script declares them:
    rk  the request (hash)           ak  its approvals (set of approver ids)
    pk  the pending requests (zset)  uk  the requester's pending requests (zset)
]]
local RETAIN_MS = 7 * 86400000

-- The caller computed the user's keys from the requester it read; requesters never change, so a
-- mismatch is a bug in the caller: stop before anything is written.
local function checkRequester(rk, requester)
  if hget(rk, 'requester') ~= requester then
    error('jitgate: the keys given are not those of this request\'s requester')
  end
end

-- A decided request leaves the pending indexes.
local function finishRequest(rk, pk, uk)
  local id = hget(rk, 'id')
  rcall('ZREM', pk, id)
  rcall('ZREM', uk, id)
end

-- A request and its approvals are kept a week past its end (for Slack updates and audit).
local function retain(rk, ak, untilMs)
  rcall('PEXPIREAT', rk, untilMs + RETAIN_MS)
  rcall('PEXPIREAT', ak, untilMs + RETAIN_MS)
end

-- The request as it now stands, for the reply: its hash (flat field/value list) and its approvers.
local function withRequest(t, rk, ak)
  t['request'] = rcall('HGETALL', rk)
  t['requestApprovals'] = rcall('SMEMBERS', ak)
  return t
end

-- An undecided request past its timeout: expire it, whoever noticed first.
local function expireIfLate(rk, ak, pk, uk)
  if hget(rk, 'status') ~= 'pending' then return false end
  if NOW < tonumber(hget(rk, 'pendingUntil')) then return false end
  local requester = hget(rk, 'requester')
  rcall('HSET', rk, 'status', 'expired', 'decidedAt', NOW)
  finishRequest(rk, pk, uk)
  retain(rk, ak, NOW)
  audit({ type = 'request.expired', actor = 'jitgate', subject = requester, resource = hget(rk, 'resource'),
    role = hget(rk, 'role'), requestId = hget(rk, 'id'), ticket = hget(rk, 'ticket'), reason = 'no decision in time' })
  return true
end
