import type { AccessRequest } from '../grants/records.js';
import type { SlackUserId } from '../ids.js';
import type { AccessDeps } from './deps.js';
import { mayDecide } from './load.js';

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
    const resource = policy().resources.get(request.resource);
    if (!resource || (request.requester === approver && !request.selfApproval)) continue;
    if (request.approvals.includes(approver)) continue;
    if (await mayDecide({ usergroups }, request, resource, approver)) mine.push(request);
  }
  return mine;
}
