import type { Clock } from '../clock.js';
import type { GrantId, SlackUserId } from '../ids.js';
import { requestIdOf } from '../ids.js';
import { guard } from './guard.js';
import type { ScriptContext } from './lua/run.js';
import { personAccess, readRequest } from './lua/scripts.js';
import type { GrantHolder, PersonAccess } from './person-grants.js';
import {
  type AccessRequest,
  LIVE_GRANT_FIELDS,
  type LiveGrant,
  parseLiveGrant,
  parseRequest,
} from './records.js';

/**
 * Reads of requests and grants: single commands or one MULTI, each record checked as it is parsed.
 * `liveGrant` is the authorizer's hot path (one HMGET per request).
 *
 * @example const request = await store.queries.getRequest(requestId);
 */
export class GrantQueries {
  constructor(
    private readonly ctx: ScriptContext,
    private readonly clock: Clock,
  ) {}

  /** The authorizer's check: one HMGET. Undefined when no live grant exists (expired or never). */
  async liveGrant(grantId: string): Promise<LiveGrant | undefined> {
    const { redis, keys } = this.ctx;
    const values = await guard(() => redis.hmget(keys.grant(grantId), ...LIVE_GRANT_FIELDS));
    return parseLiveGrant(grantId, values);
  }

  /**
   * The authorizer's check for a signed-in person: their grants for `resource` (by Slack user id for
   * a Slack sign-in, by e-mail otherwise) and whether the session `sid` was ended by a logout, in ONE
   * script call. Every entry is answered, ended ones too; the caller judges them with its clock.
   */
  async personAccess(resource: string, holder: GrantHolder, sid: string): Promise<PersonAccess> {
    const { keys } = this.ctx;
    const grantsKey =
      holder.kind === 'slack'
        ? keys.accessByUser(resource, holder.user)
        : keys.accessByEmail(resource, holder.email);
    return guard(() => personAccess(this.ctx, { grantsKey, endedKey: keys.sessionEnded(sid) }));
  }

  async getRequest(id: string): Promise<AccessRequest | undefined> {
    const { keys } = this.ctx;
    // One script, not MULTI: a full Redis refuses MULTI's queued reads, and a revoke must read this.
    const { hash, approvals } = await guard(() =>
      readRequest(this.ctx, { requestKey: keys.request(id), approvalsKey: keys.requestApprovals(id) }),
    );
    return parseRequest(hash, approvals);
  }

  /** The request a grant came from, live or ended (kept 7 days after its end). */
  async getRequestOfGrant(grantId: GrantId): Promise<AccessRequest | undefined> {
    const request = await this.getRequest(requestIdOf(grantId));
    // An extension shares its grant with the original request; only the original names it as its own.
    return request?.grantId === grantId && request.kind === 'access' ? request : undefined;
  }

  /** The user's active grants (as their requests), soonest expiry first. */
  async activeGrantsOf(user: SlackUserId): Promise<AccessRequest[]> {
    const { redis, keys } = this.ctx;
    const ids = await guard(() => redis.zrangebyscore(keys.userGrants(user), this.clock.now(), '+inf'));
    const requests = await Promise.all(ids.map((gid) => this.getRequestOfGrant(gid as GrantId)));
    return requests.filter((r): r is AccessRequest => r?.grantStatus === 'active');
  }

  async pendingRequestsOf(user: SlackUserId): Promise<AccessRequest[]> {
    const ids = await guard(() => this.ctx.redis.zrange(this.ctx.keys.userRequests(user), '0', '-1'));
    return this.loadPending(ids);
  }

  /** Every undecided request, oldest deadline first (for approvers' App Home). */
  async pendingRequests(limit = 100): Promise<AccessRequest[]> {
    const ids = await guard(() =>
      this.ctx.redis.zrange(this.ctx.keys.pendingRequests, '0', String(limit - 1)),
    );
    return this.loadPending(ids);
  }

  /**
   * Break-glass grants nobody has reviewed yet, newest first (for approvers' App Home and reminders).
   * One whose request is gone (kept a week past its end) is left out; the audit report still has it.
   */
  async unreviewedBreakGlass(limit = 50): Promise<AccessRequest[]> {
    const ids = await guard(() =>
      this.ctx.redis.zrevrange(this.ctx.keys.breakGlassUnreviewed, '0', String(limit - 1)),
    );
    const requests = await Promise.all(ids.map((id) => this.getRequest(id)));
    return requests.filter((r): r is AccessRequest => r !== undefined && r.review === undefined);
  }

  async countActiveGrants(): Promise<number> {
    const { redis, keys } = this.ctx;
    return guard(() => redis.zcount(keys.activeGrants, this.clock.now(), '+inf'));
  }

  private async loadPending(ids: string[]): Promise<AccessRequest[]> {
    const requests = await Promise.all(ids.map((id) => this.getRequest(id)));
    return requests.filter((r): r is AccessRequest => r?.status === 'pending');
  }
}
