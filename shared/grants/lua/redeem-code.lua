--[[
  Consumes a one-time redeem code (once, whoever comes first) and audits grant.redeemed. The code
  stays consumed even when its grant has ended meanwhile; a used-marker lets a second use be told
  apart from an unknown code.

  KEYS[1] audit stream                KEYS[2] audit chain head
  KEYS[3] the code (string: the grant id; the key holds the code's hash, never the code)
  KEYS[4] the code's used-marker
  KEYS[5] the grant (hash) the caller read from KEYS[3]

  ARGV[1] now (ms)
  ARGV[2] how long the used-marker stays (ms)
  ARGV[3] the grant id the caller read from KEYS[3]
  ARGV[4] the client address that redeemed it ('' when unknown), for the audit event

  Reply: { ok = true, grantId, grant } (grant: the grant's hash as a flat field/value list)
    or { ok = false, code = 'code_used' | 'code_unknown' | 'grant_not_active' (detail: the status) }.
]]
--- @include "includes/base"
--- @include "includes/audit-chain"

local codeKey, usedKey, gk = KEYS[3], KEYS[4], KEYS[5]
local client = ARGV[4] ~= '' and ARGV[4] or nil

local gid = rcall('GET', codeKey)
if not gid then
  if rcall('EXISTS', usedKey) == 1 then return fail('code_used') end
  return fail('code_unknown')
end
-- A code's grant never changes, so the grant key given is this one's unless the caller erred.
if gid ~= ARGV[3] then error('jitgate: the grant key given is not that of this code') end
rcall('DEL', codeKey)
rcall('SET', usedKey, '1', 'PX', tonumber(ARGV[2]))
if hget(gk, 'status') ~= 'active' or NOW >= tonumber(hget(gk, 'expiresAt')) then
  return fail('grant_not_active', hget(gk, 'status') or 'expired')
end
audit({ type = 'grant.redeemed', actor = hget(gk, 'user'), subject = hget(gk, 'user'), resource = hget(gk, 'resource'),
  role = hget(gk, 'role'), requestId = hget(gk, 'requestId'), grantId = gid, client = client })
return reply({ ok = true, grantId = gid, grant = rcall('HGETALL', gk) })
