import type { Clock } from '../clock.js';
import { unavailable } from '../errors.js';
import { type GrantId, grantIdOf, type RequestId, requestIdOf, type SlackUserId } from '../ids.js';
import { type ReplicaAcks, replicaAcksOf, waitForReplicas } from '../redis/connect.js';
import { guard } from './guard.js';
import { refusal, type ScriptContext } from './lua/run.js';
import type { Decided, Holder, RequestLimits } from './lua/scripts.js';
import * as scripts from './lua/scripts.js';
import { type AccessRequest, peopleList } from './records.js';

/**
 * A request as a use case files it: the stored record's own fields before any decision (the store
 * stamps `createdAt` and `pendingUntil = createdAt + pendingTimeoutMs`), and the limits it is held
 * to (the resource's; left out, none: `limits.maxDurationMs` is also kept on the request, so that
 * its approval is capped by the maximum it was filed under).
 */
export type NewRequest = Pick<
  AccessRequest,
  | 'id'
  | 'kind'
  | 'requester'
  | 'email'
  | 'resource'
  | 'role'
  | 'durationMs'
  | 'reason'
  | 'breakGlass'
  | 'approvalsRequired'
  | 'selfApproval'
  | 'extendsGrant'
  | 'team'
  | 'ticket'
  | 'escalateTo'
> & { pendingTimeoutMs: number; limits?: RequestLimits | undefined };

/**
 * The lifecycle's transitions, each one Lua script (see `./lua/`) that checks the state, changes it
 * and audits it in one atomic step, and answers the record it changed: no caller needs to read it
 * back. A refusal throws its code as a JitgateError; a Redis failure throws `unavailable`.
 *
 * @example const { decision, request } = await store.transitions.approve(requestId, approver);
 */
export class Transitions {
  constructor(
    private readonly ctx: ScriptContext,
    private readonly clock: Clock,
  ) {}

  /** Files a request. With `autoApprovedBy` (auto-approve or break-glass) it is granted in the same step. */
  async createRequest(req: NewRequest, autoApprovedBy?: string): Promise<Decided> {
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
    if (req.team) fields.team = req.team;
    if (req.ticket) fields.ticket = req.ticket;
    if (req.limits?.maxDurationMs) fields.maxDurationMs = req.limits.maxDurationMs;
    if (req.escalateTo) fields.escalateTo = peopleList(req.escalateTo);
    return scripts.createRequest(this.ctx, {
      id: req.id,
      holder: { requester: req.requester, resource: req.resource, email: req.email },
      grantId: req.kind === 'extension' && req.extendsGrant ? req.extendsGrant : grantIdOf(req.id),
      autoApprovedBy: autoApprovedBy ?? '',
      limits: req.limits ?? {},
      fields: Object.entries(fields).flatMap(([k, v]) => [k, String(v)]),
    });
  }

  /**
   * One approver's approval. Distinct approvers count once; the one reaching the threshold mints the
   * grant, or extends it, capped so that it has at most `maxDurationMs` (the resource's now) left.
   */
  async approve(
    id: RequestId,
    approver: SlackUserId,
    maxDurationMs?: number,
    steppedUp = false,
  ): Promise<Decided> {
    const { redis, keys } = this.ctx;
    const [requester, extendsGrant, resource, email] = await guard(() =>
      redis.hmget(keys.request(id), 'requester', 'extendsGrant', 'resource', 'email'),
    );
    if (!requester) throw refusal('no_such_request');
    return scripts.approveRequest(this.ctx, {
      id,
      holder: { requester: requester as SlackUserId, resource: resource ?? '', email: email ?? '' },
      grantId: (extendsGrant as GrantId | null) ?? grantIdOf(id),
      approver,
      ...(maxDurationMs !== undefined ? { maxDurationMs } : {}),
      steppedUp,
    });
  }

  /** An approver denies an undecided request. */
  async deny(id: RequestId, actor: SlackUserId, reason = ''): Promise<AccessRequest> {
    const requester = await this.requesterOf(id, 'no_such_request');
    return scripts.denyOrCancelRequest(this.ctx, { id, requester, actor, reason, mode: 'deny' });
  }

  /** The requester withdraws an undecided request. */
  async cancel(id: RequestId, actor: SlackUserId): Promise<AccessRequest> {
    const requester = await this.requesterOf(id, 'no_such_request');
    return scripts.denyOrCancelRequest(this.ctx, { id, requester, actor, reason: '', mode: 'cancel' });
  }

  /** Expires an undecided request past its timeout; changes nothing otherwise. */
  async expireRequest(id: RequestId): Promise<{ expired: boolean; request: AccessRequest }> {
    const requester = await this.requesterOf(id, 'no_such_request');
    return scripts.expireRequest(this.ctx, { id, requester });
  }

  /**
   * Escalates a request still undecided at its escalateAfter (its escalateTo people may then decide
   * it); a decided, late or already escalated request is left as it is (see the outcome).
   */
  async escalate(id: RequestId): Promise<{
    outcome: 'escalated' | 'already_escalated' | 'noop';
    request: AccessRequest;
  }> {
    const requester = await this.requesterOf(id, 'no_such_request');
    return scripts.escalateRequest(this.ctx, { id, requester });
  }

  /** Records the review of a break-glass grant; the first review counts (`already_reviewed` after). */
  async review(
    grantId: GrantId,
    reviewer: SlackUserId,
    verdict: 'justified' | 'flagged',
    note = '',
  ): Promise<{ outcome: 'reviewed' | 'already_reviewed'; request: AccessRequest }> {
    return scripts.reviewGrant(this.ctx, { grantId, reviewer, verdict, note });
  }

  /**
   * Revokes a grant at once and tells every authorizer; a second revoke is `already_revoked`. On a
   * master with replicas (Sentinel, or a cluster slot's) it then waits until a replica has it (WAIT): a revocation only
   * the master acknowledged would be lost, and access given back, if the master failed before its
   * replica had it. `replicated` is false when none confirmed in time: the revocation is in effect,
   * but not yet safe from a failover.
   */
  async revoke(
    grantId: GrantId,
    actor: SlackUserId | 'jitgate',
    reason = '',
  ): Promise<{ outcome: 'revoked' | 'already_revoked'; request: AccessRequest; replicated: boolean }> {
    const holder = await this.holderOf(requestIdOf(grantId));
    const revoked = await scripts.revokeGrant(this.ctx, { grantId, holder, actor, reason });
    return { ...revoked, replicated: await this.replicated() };
  }

  /** How long a change that must survive a failover waits for a replica (undefined: it does not). */
  get replicaAcks(): ReplicaAcks | undefined {
    return replicaAcksOf(this.ctx.redis);
  }

  /** Waits until a replica has every write this connection made (WAIT), where there are replicas. */
  private async replicated(): Promise<boolean> {
    try {
      return await waitForReplicas(this.ctx.redis, this.ctx.keys.prefix);
    } catch (err) {
      throw unavailable(err);
    }
  }

  /** Ends a grant whose time is up (`not_yet` with the expiry when it was extended or is early). */
  async expireGrant(
    requestId: RequestId,
    grantId: GrantId,
  ): Promise<{ outcome: 'expired' | 'noop' | 'not_yet'; expiresAt?: number; request: AccessRequest }> {
    const holder = await this.holderOf(requestId);
    return scripts.expireGrant(this.ctx, { requestId, grantId, holder });
  }

  /**
   * Appends one audit event for a decision that changes no state. Every string in it is bounded
   * (shared/audit/bounded.ts). Not for refusals anyone can cause: those are counted
   * (shared/audit/refusal-counts.ts) or, when they concern a real grant, go through auditGrantRefusal.
   */
  async appendAudit(event: Record<string, unknown> & { type: string }): Promise<void> {
    await scripts.appendAudit(this.ctx, event);
  }

  /**
   * Appends an event about a refused use of a real grant, at most `perWindow` per grant and window
   * (`audit-grant-refusal.lua`); answers false when the grant's allowance was used up. Every string
   * in the event is bounded before it is stored.
   */
  async auditGrantRefusal(
    grantId: string,
    event: Record<string, unknown> & { type: string },
    limit: { perWindow: number; windowMs: number },
  ): Promise<boolean> {
    return scripts.auditGrantRefusal(this.ctx, { grantId, event, ...limit });
  }

  /**
   * Records a grant's use: `access.allowed` with `firstUse` the first time, then counts; `client`,
   * the address that used it, when the caller knows it (the first request a process sees).
   */
  async recordUse(grantId: string, requests: number, client?: string): Promise<'first' | 'counted' | 'gone'> {
    return scripts.recordUse(this.ctx, { grantId, requests, client });
  }

  /** The holder of a grant, its resource and e-mail (which name its access keys), read like `requesterOf`. */
  private async holderOf(id: RequestId): Promise<Holder> {
    const { redis, keys } = this.ctx;
    const [requester, resource, email] = await guard(() =>
      redis.hmget(keys.request(id), 'requester', 'resource', 'email'),
    );
    if (!requester) throw refusal('no_such_grant');
    return { requester: requester as SlackUserId, resource: resource ?? '', email: email ?? '' };
  }

  /**
   * A script must be given the requester's index keys, so the requester is read first. A request's
   * requester never changes, and the script checks it again before it writes, so this cannot race.
   */
  private async requesterOf(
    id: RequestId,
    missing: 'no_such_request' | 'no_such_grant',
  ): Promise<SlackUserId> {
    const { redis, keys } = this.ctx;
    const requester = await guard(() => redis.hget(keys.request(id), 'requester'));
    if (!requester) throw refusal(missing);
    return requester as SlackUserId;
  }
}
