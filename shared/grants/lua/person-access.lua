--[[
  The authorizer's read for a signed-in person (one round trip per request): the person's grants
  for the resource and whether their session was ended by a logout. Reads only; no audit (so no
  audit keys, unlike the transitions), and a plain array reply, not JSON, to keep the hot path lean.

  KEYS[1] the person's grants for the resource (hash, includes/access): by Slack user id for Sign
          in with Slack, by lower-cased e-mail for any other IdP
  KEYS[2] the session's logout marker (session-ended:<sid>)

  ARGV[1] now (ms; unused: the caller judges expiry with its own clock, as for a token)

  Reply: { ended (1 when the session was ended, else 0), the hash as a flat field/value list }
]]
--- @include "includes/base"

return { rcall('EXISTS', KEYS[2]), rcall('HGETALL', KEYS[1]) }
