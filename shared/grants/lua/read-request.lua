#!lua flags=no-writes
--[[
  A request and its approvals, read together: one round trip, consistent with every transition.
  A script rather than MULTI: while Redis is out of memory it refuses every command queued in a
  MULTI, reads included, but still runs a script flagged no-writes (the first line; Redis 7 or
  later). So a full Redis can still be read, and a revoke, which reads the request first, still works.

  KEYS[1] the request (hash)          KEYS[2] its approvals (set)

  ARGV[1] now (ms; unused)

  Reply: { the request's hash as a flat field/value list, its approvers }
]]
--- @include "includes/base"

return { rcall('HGETALL', KEYS[1]), rcall('SMEMBERS', KEYS[2]) }
