import { errorFor } from '../errors.js';
import type { RequestId, SlackUserId } from '../ids.js';
import type { AccessDeps } from './deps.js';
import type { Outcome } from './effects.js';
import { followGrant, refreshHomes } from './follow-up.js';
import { loadDecidable } from './load.js';

/**
 * One approver's approval. Only approvers of the resource may, the requester only where the policy
 * allows self-approval; distinct approvers count once. The approval that reaches the threshold mints
 * the grant, and the requester gets the link. Where the resource has approverStepUp, only an
 * approval confirmed in the browser with a fresh sign-in counts (`steppedUp`); else step_up_required.
 *
 * @example const { change, request } = await approveRequest(deps, requestId, approver); // change: 'approved'
 */
export async function approveRequest(
  deps: AccessDeps,
  requestId: RequestId,
  approver: SlackUserId,
  opts: { steppedUp?: boolean } = {},
): Promise<Outcome> {
  const { resource } = await loadDecidable(deps, requestId, approver);
  // A resource with approverStepUp counts an approval only once confirmed with a fresh sign-in.
  if (resource.approverStepUp && !opts.steppedUp)
    throw errorFor('step_up_required', { resource: resource.name });
  const { decision, request } = await deps.store.transitions.approve(
    requestId,
    approver,
    resource.maxDurationMs,
    Boolean(opts.steppedUp),
  );
  if (decision.outcome === 'already_approved') {
    return { request, resource, change: 'already-approved', effects: [] };
  }
  const update = { type: 'update-approval-message', requestId } as const;
  const homes = refreshHomes(request.requester, approver);
  if (decision.outcome === 'pending') {
    return { request, resource, change: 'approved', effects: [update, homes] };
  }
  const grant = await followGrant(deps, request, resource, decision);
  const effects = [grant.effects.link, update, ...grant.effects.extended, homes];
  return { request, resource, change: 'approved', effects };
}
