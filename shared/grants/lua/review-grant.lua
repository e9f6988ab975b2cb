--[[
  Records the review of a break-glass grant: justified or flagged, by whom, with an optional note.
  The first review counts; a second one changes nothing and answers the first.

  KEYS[1] audit stream                KEYS[2] audit chain head
  KEYS[3] the grant's request (hash)  KEYS[4] its approvals (set)
  KEYS[5] break-glass grants not yet reviewed (zset)

  ARGV[1] now (ms)
  ARGV[2] the reviewer
  ARGV[3] 'justified' | 'flagged'
  ARGV[4] the note ('' for none)

  Reply: { ok = true, outcome = 'reviewed' | 'already_reviewed', request, requestApprovals }
    or { ok = false, code = 'no_such_grant' | 'not_break_glass' | 'not_allowed_to_review' }.
]]
--- @include "includes/base"
--- @include "includes/audit-chain"
--- @include "includes/request"

local rk, ak, unreviewed = KEYS[3], KEYS[4], KEYS[5]
local reviewer, verdict, note = ARGV[2], ARGV[3], ARGV[4]

if rcall('EXISTS', rk) == 0 or not hget(rk, 'grantId') then return fail('no_such_grant') end
if hget(rk, 'breakGlass') ~= '1' then return fail('not_break_glass') end
if hget(rk, 'reviewedAt') then return reply(withRequest({ ok = true, outcome = 'already_reviewed' }, rk, ak)) end
-- Nobody reviews their own break-glass.
if reviewer == hget(rk, 'requester') then return fail('not_allowed_to_review') end
if verdict ~= 'justified' and verdict ~= 'flagged' then error('jitgate: unknown review verdict ' .. tostring(verdict)) end
rcall('HSET', rk, 'reviewedAt', NOW, 'reviewedBy', reviewer, 'reviewVerdict', verdict)
if note ~= '' then rcall('HSET', rk, 'reviewNote', note) end
rcall('ZREM', unreviewed, hget(rk, 'id'))
audit({ type = 'grant.reviewed', actor = reviewer, subject = hget(rk, 'requester'), resource = hget(rk, 'resource'),
  role = hget(rk, 'role'), requestId = hget(rk, 'id'), ticket = hget(rk, 'ticket'), grantId = hget(rk, 'grantId'),
  verdict = verdict, note = note, breakGlass = true })
return reply(withRequest({ ok = true, outcome = 'reviewed' }, rk, ak))
