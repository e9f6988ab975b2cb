--[[
  Records a grant's use: access.allowed with firstUse the first time, then counts.

  KEYS[1] audit stream                KEYS[2] audit chain head
  KEYS[3] the grant (hash)

  ARGV[1] now (ms)
  ARGV[2] the grant id
  ARGV[3] how many requests it served since the last record
  ARGV[4] the client address of the first of them ('' when unknown or not the process's first)

  Reply: { ok = true, outcome = 'first' | 'counted' | 'gone' } (gone: the grant's key has expired).
]]
--- @include "includes/base"
--- @include "includes/audit-chain"

local gk = KEYS[3]
local gid, count = ARGV[2], tonumber(ARGV[3])
local client = ARGV[4] ~= '' and ARGV[4] or nil

if rcall('EXISTS', gk) == 0 then return reply({ ok = true, outcome = 'gone' }) end
local first = rcall('HSETNX', gk, 'firstUsedAt', NOW) == 1
rcall('HINCRBY', gk, 'uses', count)
audit({ type = 'access.allowed', actor = hget(gk, 'user'), subject = hget(gk, 'user'), resource = hget(gk, 'resource'),
  role = hget(gk, 'role'), requestId = hget(gk, 'requestId'), grantId = gid, firstUse = first, requests = count,
  client = client })
return reply({ ok = true, outcome = first and 'first' or 'counted' })
