import type { Redis } from 'ioredis';
import type { Clock } from '../clock.js';
import { type GrantId, grantIdOf, type RequestId, requestIdOf, type SlackUserId } from '../ids.js';
import { type RedisKeys, redisKeys } from '../redis/keys.js';
import type { AuditSink, ScriptContext } from './lua/run.js';
import type { Decision } from './lua/scripts.js';
import type { GrantHolder, PersonAccess } from './person-grants.js';
import { GrantQueries } from './queries.js';
import type { AccessRequest, LiveGrant } from './records.js';
import { RedeemCodes } from './redeem-codes.js';
import { type NewRequest, Transitions } from './transitions.js';

export type { AuditSink } from './lua/run.js';
export type { Decided, Decision } from './lua/scripts.js';
export type { GrantHolder, PersonAccess, PersonGrant } from './person-grants.js';
export type { NewRequest } from './transitions.js';
export { grantIdOf, requestIdOf };

/**
 * Requests and grants in Redis, by concern, over one connection: `transitions` (every state change,
 * one Lua script each, audited in the same step, answering the record it changed), `queries` (reads;
 * `liveGrant` is the authorizer's hot path) and `codes` (one-time redeem codes). Redis errors
 * surface as `unavailable`. Callers name the part they use (`store.queries.getRequest(id)`), so a
 * call says which concern it touches and a dependency can be narrowed to that part. The flat methods
 * below forward to the parts for callers written before the split; the transition ones keep the
 * smaller answers the store's tests assert (`Decision`, a boolean, `{ outcome, requestId }`). What
 * the bot keeps for Slack (delivery de-duplication, approval message references) is the bot's:
 * bot/slack/.
 *
 * @example
 *   const store = new AccessStore(redis, { prefix: 'jitgate', clock: systemClock });
 *   const { decision, request } = await store.transitions.approve(requestId, approver);
 */
export class AccessStore {
  readonly keys: RedisKeys;
  readonly transitions: Transitions;
  readonly queries: GrantQueries;
  readonly codes: RedeemCodes;

  constructor(
    readonly redis: Redis,
    options: { prefix: string; clock: Clock; auditSink?: AuditSink },
  ) {
    this.keys = redisKeys(options.prefix);
    const ctx: ScriptContext = {
      redis,
      keys: this.keys,
      now: () => options.clock.now(),
      sink: options.auditSink ?? (() => {}),
    };
    this.transitions = new Transitions(ctx, options.clock);
    this.queries = new GrantQueries(ctx, options.clock);
    this.codes = new RedeemCodes(ctx);
  }

  // Transitions (./transitions.ts).
  async createRequest(req: NewRequest, autoApprovedBy?: string): Promise<Decision> {
    return (await this.transitions.createRequest(req, autoApprovedBy)).decision;
  }
  async approve(id: RequestId, approver: SlackUserId): Promise<Decision> {
    return (await this.transitions.approve(id, approver)).decision;
  }
  deny(id: RequestId, actor: SlackUserId, reason = ''): Promise<AccessRequest> {
    return this.transitions.deny(id, actor, reason);
  }
  cancel(id: RequestId, actor: SlackUserId): Promise<AccessRequest> {
    return this.transitions.cancel(id, actor);
  }
  /** True when it expired now. */
  async expireRequest(id: RequestId): Promise<boolean> {
    return (await this.transitions.expireRequest(id)).expired;
  }
  async revoke(
    grantId: GrantId,
    actor: SlackUserId | 'jitgate',
    reason = '',
  ): Promise<{ outcome: 'revoked' | 'already_revoked'; requestId: RequestId }> {
    const { outcome, request } = await this.transitions.revoke(grantId, actor, reason);
    return { outcome, requestId: request.id };
  }
  /** True when it expired now; false if already ended, or not yet (then with the grant's expiry). */
  async expireGrant(
    requestId: RequestId,
    grantId: GrantId,
  ): Promise<{ expired: boolean; expiresAt?: number }> {
    const r = await this.transitions.expireGrant(requestId, grantId);
    return { expired: r.outcome === 'expired', ...(r.expiresAt ? { expiresAt: r.expiresAt } : {}) };
  }
  appendAudit(event: Record<string, unknown> & { type: string }): Promise<void> {
    return this.transitions.appendAudit(event);
  }
  recordUse(grantId: string, requests: number): Promise<'first' | 'counted' | 'gone'> {
    return this.transitions.recordUse(grantId, requests);
  }

  // Queries (./queries.ts).
  liveGrant(grantId: string): Promise<LiveGrant | undefined> {
    return this.queries.liveGrant(grantId);
  }
  personAccess(resource: string, holder: GrantHolder, sid: string): Promise<PersonAccess> {
    return this.queries.personAccess(resource, holder, sid);
  }
  getRequest(id: string): Promise<AccessRequest | undefined> {
    return this.queries.getRequest(id);
  }
  getRequestOfGrant(grantId: GrantId): Promise<AccessRequest | undefined> {
    return this.queries.getRequestOfGrant(grantId);
  }
  activeGrantsOf(user: SlackUserId): Promise<AccessRequest[]> {
    return this.queries.activeGrantsOf(user);
  }
  pendingRequestsOf(user: SlackUserId): Promise<AccessRequest[]> {
    return this.queries.pendingRequestsOf(user);
  }
  pendingRequests(limit = 100): Promise<AccessRequest[]> {
    return this.queries.pendingRequests(limit);
  }
  countActiveGrants(): Promise<number> {
    return this.queries.countActiveGrants();
  }

  // Redeem codes (./redeem-codes.ts).
  createRedeemCode(grantId: GrantId): Promise<string> {
    return this.codes.createRedeemCode(grantId);
  }
  redeem(code: string): Promise<GrantId> {
    return this.codes.redeem(code);
  }
  consumeRedeemCode(code: string): Promise<LiveGrant> {
    return this.codes.consumeRedeemCode(code);
  }
  redeemCodeGrant(code: string): Promise<GrantId | undefined> {
    return this.codes.redeemCodeGrant(code);
  }
}
