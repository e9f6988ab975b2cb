import { createHash, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Clock } from '../clock.js';
import { unavailable } from '../errors.js';
import { type GrantId, grantIdOf, type RequestId, requestIdOf, type SlackUserId } from '../ids.js';
import { type RedisKeys, redisKeys } from '../redis/keys.js';
import { type AuditSink, refusal, type ScriptContext } from './lua/run.js';
import type { Decision } from './lua/scripts.js';
import * as scripts from './lua/scripts.js';
import {
  type AccessRequest,
  LIVE_GRANT_FIELDS,
  type LiveGrant,
  parseLiveGrant,
  parseRequest,
  type SlackMessageRef,
} from './records.js';
import { type NewRequest, Transitions } from './transitions.js';

export type { AuditSink } from './lua/run.js';
export type { Decided, Decision } from './lua/scripts.js';
export type { NewRequest } from './transitions.js';
export { grantIdOf, requestIdOf };

const REDEEM_CODE_TTL_MS = 10 * 60_000;

/**
 * Requests and grants in Redis. Every transition is one Lua script that also writes its audit
 * events; reads are single commands or pipelines. Redis errors surface as `unavailable`. The
 * transitions' methods here answer what they always did; `store.transitions` answers the changed
 * record as well.
 *
 * @example
 *   const store = new AccessStore(redis, { prefix: 'jitgate', clock: systemClock });
 *   const decision = await store.approve(requestId, approver);
 */
export class AccessStore {
  readonly keys: RedisKeys;
  private readonly clock: Clock;
  /** The same transitions, each answering the record it changed (the request, with its decision). */
  readonly transitions: Transitions;
  private readonly ctx: ScriptContext;

  constructor(
    readonly redis: Redis,
    options: { prefix: string; clock: Clock; auditSink?: AuditSink },
  ) {
    this.keys = redisKeys(options.prefix);
    this.clock = options.clock;
    this.ctx = {
      redis,
      keys: this.keys,
      now: () => options.clock.now(),
      sink: options.auditSink ?? (() => {}),
    };
    this.transitions = new Transitions(this.ctx, options.clock);
  }

  /** Files a request. With `autoApprovedBy` (auto-approve or break-glass) it is granted in the same step. */
  async createRequest(req: NewRequest, autoApprovedBy?: string): Promise<Decision> {
    return (await this.transitions.createRequest(req, autoApprovedBy)).decision;
  }

  /** One approver's approval. Distinct approvers count once; the one reaching the threshold mints the grant. */
  async approve(id: RequestId, approver: SlackUserId): Promise<Decision> {
    return (await this.transitions.approve(id, approver)).decision;
  }

  /** Denies an undecided request; answers it as it now stands. */
  async deny(id: RequestId, actor: SlackUserId, reason = ''): Promise<AccessRequest> {
    return this.transitions.deny(id, actor, reason);
  }

  /** The requester withdraws an undecided request; answers it as it now stands. */
  async cancel(id: RequestId, actor: SlackUserId): Promise<AccessRequest> {
    return this.transitions.cancel(id, actor);
  }

  /** Expires an undecided request past its timeout; a no-op otherwise. True when it expired now. */
  async expireRequest(id: RequestId): Promise<boolean> {
    return (await this.transitions.expireRequest(id)).expired;
  }

  /**
   * Revokes a grant at once and tells every authorizer. Idempotent: a second revoke answers
   * `already_revoked` and writes nothing.
   */
  async revoke(
    grantId: GrantId,
    actor: SlackUserId | 'jitgate',
    reason = '',
  ): Promise<{ outcome: 'revoked' | 'already_revoked'; requestId: RequestId }> {
    const { outcome, request } = await this.transitions.revoke(grantId, actor, reason);
    return { outcome, requestId: request.id };
  }

  /** Ends a grant whose time is up (the expiry job). True when it expired now, false if already ended or extended. */
  async expireGrant(
    requestId: RequestId,
    grantId: GrantId,
  ): Promise<{ expired: boolean; expiresAt?: number }> {
    const r = await this.transitions.expireGrant(requestId, grantId);
    return { expired: r.outcome === 'expired', ...(r.expiresAt ? { expiresAt: r.expiresAt } : {}) };
  }

  /** The authorizer's check: one HMGET. Undefined when no live grant exists (expired or never). */
  async liveGrant(grantId: string): Promise<LiveGrant | undefined> {
    const values = await this.call(() => this.redis.hmget(this.keys.grant(grantId), ...LIVE_GRANT_FIELDS));
    return parseLiveGrant(grantId, values);
  }

  async getRequest(id: string): Promise<AccessRequest | undefined> {
    const [hash, approvals] = await this.call(async () => {
      const res = await this.redis
        .multi()
        .hgetall(this.keys.request(id))
        .smembers(this.keys.requestApprovals(id))
        .exec();
      return [res?.[0]?.[1] as Record<string, string>, res?.[1]?.[1] as string[]] as const;
    });
    return parseRequest(hash ?? {}, approvals ?? []);
  }

  /** The request a grant came from, live or ended (kept 7 days after its end). */
  async getRequestOfGrant(grantId: GrantId): Promise<AccessRequest | undefined> {
    const request = await this.getRequest(requestIdOf(grantId));
    // An extension shares its grant with the original request; only the original names it as its own.
    return request?.grantId === grantId && request.kind === 'access' ? request : undefined;
  }

  async setMessage(id: RequestId, message: SlackMessageRef): Promise<void> {
    await this.call(() =>
      this.redis.hset(this.keys.request(id), 'channel', message.channel, 'ts', message.ts),
    );
  }

  /** The user's active grants (as their requests), soonest expiry first. */
  async activeGrantsOf(user: SlackUserId): Promise<AccessRequest[]> {
    const now = this.clock.now();
    const ids = await this.call(() => this.redis.zrangebyscore(this.keys.userGrants(user), now, '+inf'));
    const requests = await Promise.all(ids.map((gid) => this.getRequestOfGrant(gid as GrantId)));
    return requests.filter((r): r is AccessRequest => r?.grantStatus === 'active');
  }

  async pendingRequestsOf(user: SlackUserId): Promise<AccessRequest[]> {
    const ids = await this.call(() => this.redis.zrange(this.keys.userRequests(user), '0', '-1'));
    return this.loadPending(ids);
  }

  /** Every undecided request, oldest deadline first (for approvers' App Home). */
  async pendingRequests(limit = 100): Promise<AccessRequest[]> {
    const ids = await this.call(() => this.redis.zrange(this.keys.pendingRequests, '0', String(limit - 1)));
    return this.loadPending(ids);
  }

  async countActiveGrants(): Promise<number> {
    return this.call(() => this.redis.zcount(this.keys.activeGrants, this.clock.now(), '+inf'));
  }

  /** A one-time redeem code for a grant: random, stored only as its hash, valid 10 minutes. */
  async createRedeemCode(grantId: GrantId): Promise<string> {
    const code = randomBytes(24).toString('base64url');
    await this.call(() =>
      this.redis.set(this.keys.redeemCode(hashCode(code)), grantId, 'PX', REDEEM_CODE_TTL_MS),
    );
    return code;
  }

  /** Consumes a redeem code once and audits `grant.redeemed`. Throws code_used / code_unknown / grant_not_active. */
  async redeem(code: string): Promise<GrantId> {
    return (await this.consumeRedeemCode(code)).id;
  }

  /** As `redeem`, answering the code's grant as it stood when the code was consumed (live, so no re-read). */
  async consumeRedeemCode(code: string): Promise<LiveGrant> {
    if (!/^[A-Za-z0-9_-]{16,64}$/.test(code)) throw refusal('code_unknown');
    const h = hashCode(code);
    // The script must be given the grant's key, so the code's grant is read first; consuming the code
    // (once, whoever comes first) is the script's, which checks that the code still names this grant.
    const [grantId, used] = await this.call(() =>
      this.redis.mget(this.keys.redeemCode(h), this.keys.redeemCodeUsed(h)),
    );
    if (!grantId) throw refusal(used ? 'code_used' : 'code_unknown');
    return scripts.redeemCode(this.ctx, {
      codeHash: h,
      grantId: grantId as GrantId,
      usedMarkerMs: REDEEM_CODE_TTL_MS,
    });
  }

  /** Marks a delivery (a Slack request id) as handled. True the first time only. */
  async firstDelivery(id: string, ttlSec = 3600): Promise<boolean> {
    const res = await this.call(() => this.redis.set(this.keys.delivery(id), '1', 'EX', ttlSec, 'NX'));
    return res === 'OK';
  }

  /** Appends one audit event (for decisions that change no state, such as `access.denied`). */
  async appendAudit(event: Record<string, unknown> & { type: string }): Promise<void> {
    await scripts.appendAudit(this.ctx, event);
  }

  /** Records a grant's use: `access.allowed` with `firstUse` the first time, then counts. */
  async recordUse(grantId: string, requests: number): Promise<'first' | 'counted' | 'gone'> {
    return scripts.recordUse(this.ctx, { grantId, requests });
  }

  private async loadPending(ids: string[]): Promise<AccessRequest[]> {
    const requests = await Promise.all(ids.map((id) => this.getRequest(id)));
    return requests.filter((r): r is AccessRequest => r?.status === 'pending');
  }

  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw unavailable(err);
    }
  }
}

function hashCode(code: string): string {
  return createHash('sha256').update(code).digest('base64url');
}
