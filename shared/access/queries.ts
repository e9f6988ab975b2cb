import { setImmediate } from 'node:timers/promises';
import type { AccessRequest } from '../grants/records.js';
import type { SlackUserId } from '../ids.js';
import { isApprover } from '../policy/index.js';
import { isAmong } from '../policy/queries.js';
import type { AccessDeps } from './deps.js';
import { mayDecide } from './load.js';
import { mayReview } from './review.js';

/** What someone holds and has asked for: active grants (soonest end first) and undecided requests. */
export async function accessOf(
  deps: Pick<AccessDeps, 'store'>,
  user: SlackUserId,
): Promise<{ grants: AccessRequest[]; pending: AccessRequest[] }> {
  const [grants, pending] = await Promise.all([
    deps.store.queries.activeGrantsOf(user),
    deps.store.queries.pendingRequestsOf(user),
  ]);
  return { grants, pending };
}

/** Undecided requests this person may decide and has not approved yet (not their own unless self-approval is on). */
export async function awaitingDecision(
  deps: Pick<AccessDeps, 'store' | 'policy' | 'usergroups'>,
  approver: SlackUserId,
): Promise<AccessRequest[]> {
  const { store, policy, usergroups } = deps;
  const mine: AccessRequest[] = [];
  for (const request of await store.queries.pendingRequests()) {
    if (await mayDecideNow({ policy, usergroups }, request, approver)) mine.push(request);
  }
  return mine;
}

/** What one person's App Home shows. */
export interface HomeContent {
  grants: AccessRequest[];
  pending: AccessRequest[];
  /** Requests this person may decide and has not approved yet (as `awaitingDecision`). */
  awaiting: AccessRequest[];
  /** Break-glass grants nobody has reviewed yet that this person may review (as `awaitingReview`). */
  toReview: AccessRequest[];
}

/**
 * What the App Homes of `users` show, from one batched read however many they are (two pipelined
 * round trips: `GrantQueries.homesOf`), filtered per person as `accessOf`, `awaitingDecision` and
 * `awaitingReview` filter.
 *
 * @example const homes = await homesOf(deps, ['U0ALICE', 'U0BOB']); homes.get('U0ALICE')?.awaiting
 */
export async function homesOf(
  deps: Pick<AccessDeps, 'store' | 'policy' | 'usergroups'>,
  users: readonly SlackUserId[],
): Promise<Map<SlackUserId, HomeContent>> {
  const unique = [...new Set(users)];
  const read = await deps.store.queries.homesOf(unique);
  const homes = new Map<SlackUserId, HomeContent>();
  // Who approves a resource is asked once per resource and person, not once per request.
  const approves = new Map<string, Promise<boolean>>();
  for (const user of unique) {
    const own = read.of.get(user) ?? { grants: [], pending: [] };
    const awaiting: AccessRequest[] = [];
    for (const request of read.pending) {
      const resource = deps.policy().resources.get(request.resource);
      if (!resource || (request.requester === user && !request.selfApproval)) continue;
      if (request.approvals.includes(user)) continue;
      const key = `${request.resource}\u0000${user}`;
      let approver = approves.get(key);
      if (!approver) {
        approver = isApprover(resource, user, deps.usergroups);
        approves.set(key, approver);
      }
      // As `mayDecide`: an approver of the resource, or among those an escalated request went to.
      const escalatedTo = request.escalatedAt !== undefined ? request.escalateTo : undefined;
      if ((await approver) || (escalatedTo && (await isAmong(escalatedTo, user, deps.usergroups))))
        awaiting.push(request);
    }
    const toReview: AccessRequest[] = [];
    for (const request of read.unreviewed) if (await mayReview(deps, request, user)) toReview.push(request);
    homes.set(user, { ...own, awaiting, toReview });
    // Many homes are filtered in turns, so that reading requests in between is not held up.
    if (unique.length > 1) await setImmediate();
  }
  return homes;
}

/** `awaitingDecision`'s rule for one request: may decide it, has not approved it, not their own (unless self-approval). */
async function mayDecideNow(
  deps: Pick<AccessDeps, 'policy' | 'usergroups'>,
  request: AccessRequest,
  approver: SlackUserId,
): Promise<boolean> {
  const resource = deps.policy().resources.get(request.resource);
  if (!resource || (request.requester === approver && !request.selfApproval)) return false;
  if (request.approvals.includes(approver)) return false;
  return mayDecide(deps, request, resource, approver);
}
