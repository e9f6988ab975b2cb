import type { RequestId, SlackUserId } from '../ids.js';
import type { AccessDeps } from './deps.js';
import type { Outcome } from './effects.js';
import { refreshHomes } from './follow-up.js';

/**
 * The requester withdraws a request still pending (from `/access cancel` or the Cancel button alike).
 * Anyone else, or a decided request, is refused by the store's one atomic step.
 *
 * @example await cancelRequest(deps, requestId, requester); // change: 'cancelled'
 */
export async function cancelRequest(
  deps: Pick<AccessDeps, 'store' | 'scheduler' | 'policy'>,
  requestId: RequestId,
  user: SlackUserId,
): Promise<Outcome> {
  const request = await deps.store.transitions.cancel(requestId, user);
  await deps.scheduler.requestDecided(requestId);
  return {
    request,
    resource: deps.policy().resources.get(request.resource),
    change: 'cancelled',
    effects: [{ type: 'update-approval-message', requestId }, refreshHomes(request.requester)],
  };
}
