import { errorFor } from '../errors.js';
import type { AccessRequest } from '../grants/records.js';
import type { GrantId, RequestId, SlackUserId } from '../ids.js';
import { isApprover } from '../policy/index.js';
import { isAmong } from '../policy/queries.js';
import type { Resource } from '../policy/types.js';
import type { AccessDeps } from './deps.js';

/** The loading steps the use cases share; each refuses with a coded error when what it needs is not there. */

/** A request by id, or no_such_request. */
export async function loadRequest(
  deps: Pick<AccessDeps, 'store'>,
  requestId: RequestId | string,
): Promise<AccessRequest> {
  const request = await deps.store.queries.getRequest(requestId);
  if (!request) throw errorFor('no_such_request', { requestId });
  return request;
}

/** The request a grant came from, or no_such_grant. */
export async function loadRequestOfGrant(
  deps: Pick<AccessDeps, 'store'>,
  grantId: GrantId,
): Promise<AccessRequest> {
  const request = await deps.store.queries.getRequestOfGrant(grantId);
  if (!request) throw errorFor('no_such_grant', { grantId });
  return request;
}

/** The request of a grant that is active now, or grant_not_active. */
export async function loadActiveGrant(
  deps: Pick<AccessDeps, 'store' | 'clock'>,
  grantId: GrantId,
): Promise<AccessRequest> {
  const request = await loadRequestOfGrant(deps, grantId);
  if (request.grantStatus !== 'active' || (request.expiresAt ?? 0) <= deps.clock.now()) {
    throw errorFor('grant_not_active', { grantId });
  }
  return request;
}

/**
 * A request and its resource, if `approver` may decide it, else not_an_approver: an approver of the
 * resource, or once the request is escalated, one of the people it was escalated to.
 */
export async function loadDecidable(
  deps: Pick<AccessDeps, 'store' | 'policy' | 'usergroups'>,
  requestId: RequestId,
  approver: SlackUserId,
): Promise<{ request: AccessRequest; resource: Resource }> {
  const request = await loadRequest(deps, requestId);
  const resource = deps.policy().resources.get(request.resource);
  if (!resource || !(await mayDecide(deps, request, resource, approver))) {
    throw errorFor('not_an_approver', { requestId, resource: request.resource });
  }
  return { request, resource };
}

/**
 * Whether `user` may decide `request`: an approver of its resource, or once it is escalated, one
 * of the people it was escalated to (as fixed when it was filed) who is still among the resource's
 * escalateTo now: taking someone out of the policy ends their power at once, as for approvers.
 */
export async function mayDecide(
  deps: Pick<AccessDeps, 'usergroups'>,
  request: AccessRequest,
  resource: Resource,
  user: SlackUserId,
): Promise<boolean> {
  if (await isApprover(resource, user, deps.usergroups)) return true;
  const escalatedTo = request.escalatedAt !== undefined ? request.escalateTo : undefined;
  const stillNamed = resource.escalation?.to;
  return (
    escalatedTo !== undefined &&
    stillNamed !== undefined &&
    (await isAmong(escalatedTo, user, deps.usergroups)) &&
    (await isAmong(stillNamed, user, deps.usergroups))
  );
}

/**
 * A request `approver` may decide now: an approver of its resource, and the request still pending
 * (else not_an_approver or request_not_pending). For a check before asking for more (the deny form).
 */
export async function decidableRequest(
  deps: Pick<AccessDeps, 'store' | 'policy' | 'usergroups'>,
  requestId: RequestId,
  approver: SlackUserId,
): Promise<AccessRequest> {
  const { request } = await loadDecidable(deps, requestId, approver);
  if (request.status !== 'pending')
    throw errorFor('request_not_pending', { requestId, detail: request.status });
  return request;
}
