--[[
  A request's keys, as every request script declares them:
    rk  the request (hash)           ak  its approvals (set of approver ids)
    pk  the pending requests (zset)  uk  the requester's pending requests (zset)
    upk the requester's pending requests as the limits read them (hash: id →
        'pendingUntil|kind|resource|extended grant'; see pendingOf)
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
local function finishRequest(rk, pk, uk, upk)
  local id = hget(rk, 'id')
  rcall('ZREM', pk, id)
  rcall('ZREM', uk, id)
  rcall('HDEL', upk, id)
end

-- A new undecided request joins the requester's limits index; the index lives as long as its
-- longest-waiting entry (PEXPIREAT GT: never shortened by a request that times out sooner).
local function notePending(rk, upk)
  local untilMs = tonumber(hget(rk, 'pendingUntil'))
  rcall('HSET', upk, hget(rk, 'id'), string.format('%d', untilMs) .. '|' .. hget(rk, 'kind') .. '|' ..
    hget(rk, 'resource') .. '|' .. (hget(rk, 'extendsGrant') or ''))
  if rcall('PEXPIREAT', upk, untilMs, 'GT') == 0 and rcall('PTTL', upk) == -1 then
    rcall('PEXPIREAT', upk, untilMs)
  end
end

-- The requester's undecided requests, oldest first: { id, untilMs, kind, resource, grant }. One past
-- its timeout no longer counts (its expiry job may not have run yet) and leaves the index here.
local function pendingOf(upk)
  local all = rcall('HGETALL', upk)
  local live = {}
  for i = 1, #all, 2 do
    local untilMs, kind, resource, grant = string.match(all[i + 1], '^(%d+)|([^|]*)|([^|]*)|(.*)$')
    if untilMs == nil or tonumber(untilMs) <= NOW then
      rcall('HDEL', upk, all[i])
    else
      table.insert(live, { id = all[i], untilMs = tonumber(untilMs), kind = kind, resource = resource, grant = grant })
    end
  end
  table.sort(live, function(a, b) return a.untilMs < b.untilMs end)
  return live
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
local function expireIfLate(rk, ak, pk, uk, upk)
  if hget(rk, 'status') ~= 'pending' then return false end
  if NOW < tonumber(hget(rk, 'pendingUntil')) then return false end
  local requester = hget(rk, 'requester')
  rcall('HSET', rk, 'status', 'expired', 'decidedAt', NOW)
  finishRequest(rk, pk, uk, upk)
  retain(rk, ak, NOW)
  audit({ type = 'request.expired', actor = 'jitgate', subject = requester, resource = hget(rk, 'resource'),
    role = hget(rk, 'role'), requestId = hget(rk, 'id'), ticket = hget(rk, 'ticket'), reason = 'no decision in time' })
  return true
end
