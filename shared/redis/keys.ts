import type { GrantId, RequestId, SlackUserId } from '../ids.js';

/**
 * Every Redis key jitgate uses is built here. The prefix is wrapped in a hash tag (`{jitgate}`) so
 * that all of them live in one Redis Cluster slot and multi-key Lua scripts stay legal there.
 *
 * @example const keys = redisKeys('jitgate'); keys.grant(id) // '{jitgate}:grant:g_…'
 */
export function redisKeys(prefix: string) {
  const p = `{${prefix}}`;
  return {
    prefix: p,
    /** A SCAN MATCH pattern for every key under this prefix (for cleanup and measurement tools). */
    everyKey: `${p}*`,
    /** BullMQ's own prefix: its keys carry the same hash tag. */
    queuePrefix: `${p}:q`,
    request: (id: RequestId | string) => `${p}:req:${id}`,
    requestApprovals: (id: RequestId | string) => `${p}:req:${id}:approvals`,
    grant: (id: GrantId | string) => `${p}:grant:${id}`,
    /**
     * A person's grants for one resource, by the holder's Slack user id (Sign in with Slack) and by
     * their e-mail, lower-cased (any other IdP): grant id → `status|expiresAt|role|user|team|email`,
     * kept by the grant scripts, read by the authorizer with the session's logout key in one call.
     */
    accessByUser: (resource: string, user: SlackUserId | string) => `${p}:access:${resource}:user:${user}`,
    accessByEmail: (resource: string, email: string) =>
      `${p}:access:${resource}:email:${email.toLowerCase()}`,
    userGrants: (user: SlackUserId | string) => `${p}:user:${user}:grants`,
    userRequests: (user: SlackUserId | string) => `${p}:user:${user}:requests`,
    /**
     * A person's undecided requests as the limits read them (hash: request id →
     * `pendingUntil|kind|resource|extended grant`), kept by the request scripts beside `userRequests`.
     */
    userPending: (user: SlackUserId | string) => `${p}:user:${user}:pending`,
    pendingRequests: `${p}:pending`,
    activeGrants: `${p}:active`,
    /** Break-glass grants nobody has reviewed yet (zset: request id → issued at). */
    breakGlassUnreviewed: `${p}:break-glass:unreviewed`,
    redeemCode: (codeHash: string) => `${p}:code:${codeHash}`,
    redeemCodeUsed: (codeHash: string) => `${p}:code:${codeHash}:used`,
    /** The requests an approver was nudged about by DM in the current hour (hash: request id → time). */
    nudgesTo: (approver: SlackUserId | string) => `${p}:nudges:${approver}`,
    /** An approval waiting to be confirmed in the browser with a fresh sign-in (by a hash of its one-time code). */
    stepUp: (codeHash: string) => `${p}:step-up:${codeHash}`,
    /** Marks a Slack delivery as handled, so a replay or retry changes nothing twice. */
    delivery: (id: string) => `${p}:delivery:${id}`,
    auditStream: `${p}:audit`,
    auditHead: `${p}:audit:head`,
    /**
     * Refusals counted, not audited one by one: one hash per minute (`minute` = ms since the epoch
     * at the minute's start), field `<resource>|<refusal code>` (resource empty when none matched),
     * value the count. Each expires REFUSAL_COUNTS_KEEP_MS after its minute.
     */
    refusalCounts: (minute: number) => `${p}:refused:${minute}`,
    /** How many refusals of one grant were audited in the current window (a counter that expires with it). */
    grantRefusalsAudited: (grantId: GrantId | string) => `${p}:audited-refusals:${grantId}`,
    /** Set by a logout for the rest of the session's lifetime: that sign-in is over on every host. */
    sessionEnded: (sid: string) => `${p}:session-ended:${sid}`,
    /** A login transaction whose callback was handled (by its state's hash): each is usable once. */
    loginUsed: (stateHash: string) => `${p}:login-used:${stateHash}`,
    /** A one-time code (hashed) that hands a session to a resource's own host. */
    sessionHandoff: (codeHash: string) => `${p}:handoff:${codeHash}`,
    /** The request a signed-in person asked for on a resource's page (by a hash of who asks): one at a time. */
    ask: (askerHash: string, resource: string) => `${p}:ask:${askerHash}:${resource}`,
    /** Pub/sub channel on which revocations reach every authorizer. */
    revocations: `${p}:revocations`,
  };
}

export type RedisKeys = ReturnType<typeof redisKeys>;
