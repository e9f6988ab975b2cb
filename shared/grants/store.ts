import { createHash, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { Clock } from '../clock.js';
import { type ErrorCode, JitgateError, unavailable } from '../errors.js';
import type { GrantId, RequestId, SlackUserId } from '../ids.js';
import { type RedisKeys, redisKeys } from '../redis/keys.js';
import * as lua from './lua.js';
import {
  type AccessRequest,
  LIVE_GRANT_FIELDS,
  type LiveGrant,
  parseLiveGrant,
  parseRequest,
  type SlackMessageRef,
} from './records.js';

/** Receives every audit event the store writes, already chained in Redis (for the JSON log / SIEM). */
export type AuditSink = (event: Record<string, unknown>) => void;

export interface NewRequest {
  id: RequestId;
  kind: 'access' | 'extension';
  requester: SlackUserId;
  email: string;
  resource: string;
  role: string;
  durationMs: number;
  reason: string;
  breakGlass: boolean;
  approvalsRequired: number;
  selfApproval: boolean;
  pendingTimeoutMs: number;
  extendsGrant?: GrantId | undefined;
  threadTs?: string | undefined;
}

export type Decision =
  | { outcome: 'pending'; approvals: number }
  | { outcome: 'already_approved'; approvals: number }
  | { outcome: 'granted'; grantId: GrantId; expiresAt: number };

const Reply = z.object({
  ok: z.boolean(),
  code: z.string().optional(),
  detail: z.string().optional(),
  outcome: z.string().optional(),
  grantId: z.string().optional(),
  requestId: z.string().optional(),
  expiresAt: z.number().optional(),
  approvals: z.number().optional(),
  status: z.string().optional(),
  events: z.union([z.array(z.string()), z.object({})]).transform((e) => (Array.isArray(e) ? e : [])),
});
type Reply = z.infer<typeof Reply>;

const FAILURE_MESSAGES: Record<string, string> = {
  no_such_request: 'There is no such request (it may have been cleaned up long ago).',
  request_not_pending: 'This request has already been decided.',
  self_approval: 'You cannot approve your own request.',
  not_allowed_to_cancel: 'Only the person who asked can cancel a request.',
  no_such_grant: 'There is no such grant.',
  grant_not_active: 'This grant is no longer active.',
  code_used: 'This redeem link has already been used.',
  code_unknown: 'This redeem link is unknown or has expired.',
  request_exists: 'A request with this id already exists.',
};

const REDEEM_CODE_TTL_MS = 10 * 60_000;
type ScriptName = keyof typeof lua;

/**
 * Requests and grants in Redis. Every transition is one Lua script that also writes its audit
 * events; reads are single commands or pipelines. Redis errors surface as `unavailable`.
 *
 * @example
 *   const store = new AccessStore(redis, { prefix: 'jitgate', clock: systemClock });
 *   const decision = await store.approve(requestId, approver);
 */
export class AccessStore {
  readonly keys: RedisKeys;
  private readonly clock: Clock;
  private readonly sink: AuditSink;

  constructor(
    readonly redis: Redis,
    options: { prefix: string; clock: Clock; auditSink?: AuditSink },
  ) {
    this.keys = redisKeys(options.prefix);
    this.clock = options.clock;
    this.sink = options.auditSink ?? (() => {});
  }

  /** Files a request. With `autoApprovedBy` (auto-approve or break-glass) it is granted in the same step. */
  async createRequest(req: NewRequest, autoApprovedBy?: string): Promise<Decision> {
    const now = this.clock.now();
    const fields: Record<string, string | number> = {
      id: req.id,
      kind: req.kind,
      status: 'pending',
      requester: req.requester,
      email: req.email,
      resource: req.resource,
      role: req.role,
      durationMs: req.durationMs,
      reason: req.reason,
      breakGlass: req.breakGlass ? '1' : '0',
      approvalsRequired: req.approvalsRequired,
      selfApproval: req.selfApproval ? '1' : '0',
      createdAt: now,
      pendingUntil: now + req.pendingTimeoutMs,
    };
    if (req.extendsGrant) fields.extendsGrant = req.extendsGrant;
    if (req.threadTs) fields.threadTs = req.threadTs;
    const r = await this.run(
      'CREATE_REQUEST',
      [this.keys.request(req.id)],
      [grantIdOf(req.id), autoApprovedBy ?? '', ...Object.entries(fields).flat()],
    );
    return toDecision(r);
  }

  /** One approver's approval. Distinct approvers count once; the one reaching the threshold mints the grant. */
  async approve(id: RequestId, approver: SlackUserId): Promise<Decision> {
    const r = await this.run(
      'APPROVE',
      [this.keys.request(id), this.keys.requestApprovals(id)],
      [approver, grantIdOf(id)],
    );
    return toDecision(r);
  }

  async deny(id: RequestId, actor: SlackUserId, reason = ''): Promise<void> {
    await this.run('DENY_OR_CANCEL', [this.keys.request(id)], [actor, reason, 'deny']);
  }

  async cancel(id: RequestId, actor: SlackUserId): Promise<void> {
    await this.run('DENY_OR_CANCEL', [this.keys.request(id)], [actor, '', 'cancel']);
  }

  /** Expires an undecided request past its timeout; a no-op otherwise. True when it expired now. */
  async expireRequest(id: RequestId): Promise<boolean> {
    const r = await this.run('EXPIRE_REQUEST', [this.keys.request(id)], []);
    return r.outcome === 'expired';
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
    const r = await this.run(
      'REVOKE',
      [this.keys.grant(grantId), this.keys.revocations],
      [actor, reason, grantId, requestIdOf(grantId)],
    );
    return { outcome: r.outcome as 'revoked' | 'already_revoked', requestId: r.requestId as RequestId };
  }

  /** Ends a grant whose time is up (the expiry job). True when it expired now, false if already ended or extended. */
  async expireGrant(
    requestId: RequestId,
    grantId: GrantId,
  ): Promise<{ expired: boolean; expiresAt?: number }> {
    const r = await this.run(
      'EXPIRE_GRANT',
      [this.keys.request(requestId), this.keys.revocations],
      [grantId],
    );
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

  /** Consumes a redeem code once (GETDEL) and audits `grant.redeemed`. Throws code_used / code_unknown / grant_not_active. */
  async redeem(code: string): Promise<GrantId> {
    if (!/^[A-Za-z0-9_-]{16,64}$/.test(code)) {
      throw new JitgateError('code_unknown', FAILURE_MESSAGES.code_unknown!, {});
    }
    const h = hashCode(code);
    const r = await this.run(
      'REDEEM',
      [this.keys.redeemCode(h), this.keys.redeemCodeUsed(h)],
      [REDEEM_CODE_TTL_MS],
    );
    return r.grantId as GrantId;
  }

  /** Marks a delivery (a Slack request id) as handled. True the first time only. */
  async firstDelivery(id: string, ttlSec = 3600): Promise<boolean> {
    const res = await this.call(() => this.redis.set(this.keys.delivery(id), '1', 'EX', ttlSec, 'NX'));
    return res === 'OK';
  }

  /** Appends one audit event (for decisions that change no state, such as `access.denied`). */
  async appendAudit(event: Record<string, unknown> & { type: string }): Promise<void> {
    await this.run('APPEND_AUDIT', [], [JSON.stringify(event)]);
  }

  /** Records a grant's use: `access.allowed` with `firstUse` the first time, then counts. */
  async recordUse(grantId: string, requests: number): Promise<'first' | 'counted' | 'gone'> {
    const r = await this.run('RECORD_USE', [this.keys.grant(grantId)], [grantId, requests]);
    return r.outcome as 'first' | 'counted' | 'gone';
  }

  private async loadPending(ids: string[]): Promise<AccessRequest[]> {
    const requests = await Promise.all(ids.map((id) => this.getRequest(id)));
    return requests.filter((r): r is AccessRequest => r?.status === 'pending');
  }

  private async run(name: ScriptName, keys: string[], args: (string | number)[]): Promise<Reply> {
    const command = defineScript(this.redis, name);
    const raw = await this.call(() =>
      command(
        keys.length + 2,
        this.keys.auditStream,
        this.keys.auditHead,
        ...keys,
        this.keys.prefix,
        this.clock.now(),
        ...args,
      ),
    );
    const reply = Reply.parse(JSON.parse(String(raw)));
    for (const e of reply.events) this.sink(JSON.parse(e) as Record<string, unknown>);
    if (!reply.ok) {
      const code = (reply.code ?? 'unavailable') as ErrorCode;
      throw new JitgateError(code, messageFor(code, reply.detail), { detail: reply.detail });
    }
    return reply;
  }

  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw unavailable(err);
    }
  }
}

const DEFINED = new WeakMap<Redis, Set<string>>();
type ScriptCall = (...args: (string | number)[]) => Promise<unknown>;

/** Registers a script once per connection; ioredis then sends EVALSHA and falls back to EVAL. */
function defineScript(redis: Redis, name: ScriptName): ScriptCall {
  const command = `jitgate_${name.toLowerCase()}`;
  let defined = DEFINED.get(redis);
  if (!defined) {
    defined = new Set();
    DEFINED.set(redis, defined);
  }
  if (!defined.has(command)) {
    redis.defineCommand(command, { lua: lua[name] });
    defined.add(command);
  }
  // biome-ignore lint/suspicious/noExplicitAny: commands added by defineCommand are not in ioredis' types
  return ((redis as any)[command] as ScriptCall).bind(redis);
}

function messageFor(code: string, detail?: string): string {
  if (code === 'request_not_pending' && detail) return `This request is already ${detail}.`;
  if (code === 'grant_not_active' && detail)
    return `This grant has already ${detail === 'revoked' ? 'been revoked' : 'expired'}.`;
  return FAILURE_MESSAGES[code] ?? 'That could not be done.';
}

function toDecision(r: Reply): Decision {
  if (r.outcome === 'granted')
    return { outcome: 'granted', grantId: r.grantId as GrantId, expiresAt: r.expiresAt! };
  if (r.outcome === 'already_approved') return { outcome: 'already_approved', approvals: r.approvals ?? 0 };
  return { outcome: 'pending', approvals: r.approvals ?? 0 };
}

/**
 * A grant's id is its request's id with another prefix: a grant (live or ended) always leads back to
 * its request, with no index to keep. Neither id is a secret; the token is.
 */
export const grantIdOf = (requestId: RequestId): GrantId => `g_${requestId.slice(2)}` as GrantId;
export const requestIdOf = (grantId: GrantId): RequestId => `r_${grantId.slice(2)}` as RequestId;

function hashCode(code: string): string {
  return createHash('sha256').update(code).digest('base64url');
}
