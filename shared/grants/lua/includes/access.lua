--[[
  A person's grants for one resource, as the authorizer reads them (person-access.lua): one hash by
  the holder's Slack user id and one by their e-mail (lower-cased in the key), field = grant id,
  value = 'status|expiresAt|role|user|team|email' (the e-mail last: it may hold a '|'). The keys,
  as the scripts that change grants declare them:
    uak  the holder's grants for the resource, by Slack user id
    eak  the same, by e-mail (declared even when the grant has no e-mail; then left untouched)
  An ended entry stays, marked revoked or expired, for a day past its end so that a refusal can say
  why; every write drops the entries older than that and sets the key to expire a day after its
  latest end. The authorizer also compares expiresAt with its clock, so an entry whose expiry job
  has not run yet is refused all the same.
]]
local ACCESS_KEEP_MS = 86400000

-- The caller built uak and eak from the resource and e-mail of the grant's request (rk); a mismatch
-- is a bug in the caller: stop before anything is written.
local function checkAccessKeys(rk, resource, email)
  if hget(rk, 'resource') ~= resource or (hget(rk, 'email') or '') ~= email then
    error('jitgate: the access keys given are not those of this grant')
  end
end

local function accessValue(status, expiresAt, role, user, team, email)
  return status .. '|' .. string.format('%d', expiresAt) .. '|' .. role .. '|' .. user .. '|' ..
    (team or '') .. '|' .. (email or '')
end

-- Writes one entry and keeps the key's expiry a day past its latest end.
local function accessPut(key, gid, value)
  rcall('HSET', key, gid, value)
  local all = rcall('HGETALL', key)
  local latest = 0
  for i = 1, #all, 2 do
    local ends = tonumber(string.match(all[i + 1], '^[^|]*|(%d+)|'))
    if ends == nil or ends + ACCESS_KEEP_MS <= NOW then
      rcall('HDEL', key, all[i])
    elseif ends > latest then
      latest = ends
    end
  end
  if latest > 0 then rcall('PEXPIREAT', key, latest + ACCESS_KEEP_MS) end
end

-- The grant's entry under both keys (the e-mail one only when the grant has an e-mail).
local function accessSet(uak, eak, gid, status, expiresAt, role, user, team, email)
  local value = accessValue(status, expiresAt, role, user, team, email)
  accessPut(uak, gid, value)
  if email and email ~= '' then accessPut(eak, gid, value) end
end

-- An entry's status or expiry changed (revoked, expired, extended); nothing when it has no entry.
local function accessUpdate(uak, eak, gid, status, expiresAt)
  for _, key in ipairs({ uak, eak }) do
    local v = rcall('HGET', key, gid)
    if v then
      local _, ends, rest = string.match(v, '^([^|]*)|(%d+)|(.*)$')
      if ends then
        accessPut(key, gid, status .. '|' .. string.format('%d', expiresAt or tonumber(ends)) .. '|' .. rest)
      end
    end
  end
end
