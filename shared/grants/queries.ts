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

/** What App Homes show, read at once for several people (`GrantQueries.homesOf`). */
export interface HomeRecords {
  /** Every undecided request, oldest deadline first (the first `limits.pending`). */
  pending: AccessRequest[];
  /** Break-glass grants nobody has reviewed yet, newest first. */
  unreviewed: AccessRequest[];
  /** Each person's active grants (soonest end first) and undecided requests. */
  of: Map<SlackUserId, { grants: AccessRequest[]; pending: AccessRequest[] }>;
}

/** A pipeline's replies; a failed command fails the whole read (fail closed). */
function replies<T>(results: [Error | null, unknown][] | null): T[] {
  if (!results) throw new Error('the pipeline was not run');
  return results.map(([err, value]) => {
    if (err) throw err;
    return value as T;
  });
}

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

  /**
   * What the App Homes of `users` show, read in two pipelined round trips whatever their number: the
   * indexes first (each person's grants and requests, every undecided request, the unreviewed
   * break-glass grants), then every record they name, each read once even when several homes show it.
   * The same filters as `activeGrantsOf`, `pendingRequestsOf`, `pendingRequests` and
   * `unreviewedBreakGlass`.
   */
  async homesOf(
    users: readonly SlackUserId[],
    limits = { pending: 100, unreviewed: 50 },
  ): Promise<HomeRecords> {
    const { redis, keys } = this.ctx;
    const now = String(this.clock.now());
    const indexes = await guard(async () => {
      const batch = redis.pipeline();
      batch.zrange(keys.pendingRequests, '0', String(limits.pending - 1));
      batch.zrevrange(keys.breakGlassUnreviewed, '0', String(limits.unreviewed - 1));
      for (const user of users) {
        batch.zrangebyscore(keys.userGrants(user), now, '+inf');
        batch.zrange(keys.userRequests(user), '0', '-1');
      }
      return replies<string[]>(await batch.exec());
    });
    const [pendingIds = [], unreviewedIds = []] = indexes;
    const ofUser = users.map((_, i) => ({
      grantIds: indexes[2 + 2 * i] ?? [],
      requestIds: indexes[3 + 2 * i] ?? [],
    }));
    const ids = new Set<string>([...pendingIds, ...unreviewedIds]);
    for (const u of ofUser) {
      for (const gid of u.grantIds) ids.add(requestIdOf(gid as GrantId));
      for (const rid of u.requestIds) ids.add(rid);
    }
    const records = new Map<string, AccessRequest>();
    if (ids.size > 0) {
      const list = [...ids];
      const values = await guard(async () => {
        const batch = redis.pipeline();
        for (const id of list) batch.hgetall(keys.request(id)).smembers(keys.requestApprovals(id));
        return replies<unknown>(await batch.exec());
      });
      list.forEach((id, i) => {
        const request = parseRequest(
          (values[2 * i] as Record<string, string>) ?? {},
          (values[2 * i + 1] as string[]) ?? [],
        );
        if (request) records.set(id, request);
      });
    }
    const pick = (list: readonly string[], keep: (r: AccessRequest, id: string) => boolean) =>
      list.flatMap((id) => {
        const r = records.get(id);
        return r && keep(r, id) ? [r] : [];
      });
    const isPending = (r: AccessRequest) => r.status === 'pending';
    return {
      pending: pick(pendingIds, isPending),
      unreviewed: pick(unreviewedIds, (r) => r.review === undefined),
      of: new Map(
        users.map((user, i) => [
          user,
          {
            grants: ofUser[i]!.grantIds.flatMap((gid) => {
              const r = records.get(requestIdOf(gid as GrantId));
              return r && r.grantId === gid && r.kind === 'access' && r.grantStatus === 'active' ? [r] : [];
            }),
            pending: pick(ofUser[i]!.requestIds, isPending),
          },
        ]),
      ),
    };
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
